/* Unit tests: cloudburstctl against a ledger the test builds with the ledger
 * API. Human output is compared byte for byte with the cases in
 * tests/data/ctl/NAME.case (arguments, exit status, stderr, stdout); JSON output
 * is parsed with json-c and checked field by field; the installed binary is
 * run once to check main() and the exit status. */
#include "ctl.h"
#include "ledger.h"

#include "cb_autoconf.h"
#include "cb_text.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* 2026-11-22T04:00:00Z */
#define T0 INT64_C(1795320000)
#define NOW (T0 + 7200)

static char tmpdir[256];
static char dbpath[512];

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char p[1024];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(p); /* the stand-in pool of test_pool_* */
            else
                unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

static void ok(int rc, const struct cb_err *err)
{
    ck_assert_msg(rc == 0, "%s", err->msg);
}

/* The ledger every case reads: two clouds, nodes in several states, a
 * failure with hostile text, an adopted node and a gone one. */
static void build_ledger(void)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    struct ledger_intent a = {.batch_id = "b1",
                              .cloud = "aws-eu",
                              .flavor = "c5.2xlarge",
                              .image = "ami-0abc",
                              .cpus = 8,
                              .memory_mb = 16384,
                              .cost_per_hour = 0.34,
                              .count = 2};
    ok(ledger_record_boot_intent(l, &a, T0, NULL, 0, &err), &err);
    ok(ledger_set_instance(l, "b1-0", "i-0a1", T0 + 30, &err), &err);
    ok(ledger_transition(l, "b1-0", CB_NODE_BOOTING, T0 + 30, "accepted", &err), &err);
    ok(ledger_set_addresses(l, "b1-0", "127.0.0.11", NULL, NULL, T0 + 60, &err), &err);
    ok(ledger_transition(l, "b1-0", CB_NODE_BOOTSTRAPPING, T0 + 120, NULL, &err), &err);
    ok(ledger_transition(l, "b1-0", CB_NODE_IDLE, T0 + 300, "startd joined", &err), &err);
    ok(ledger_record_failure(l, "b1-1", "InsufficientInstanceCapacity\r\n\x1b[31mfake", T0 + 40,
                             &err),
       &err);
    ok(ledger_transition(l, "b1-1", CB_NODE_FAILED, T0 + 40, "boot failed", &err), &err);

    struct ledger_intent b = {.batch_id = "b2",
                              .cloud = "os-site",
                              .flavor = "m1.large",
                              .image = "debian-12",
                              .cpus = 4,
                              .memory_mb = 8192,
                              .cost_per_hour = 0.1,
                              .count = 1};
    ok(ledger_record_boot_intent(l, &b, T0 + 3600, NULL, 0, &err), &err);

    struct ledger_intent g = {.batch_id = "b0",
                              .cloud = "aws-eu",
                              .flavor = "c5.2xlarge",
                              .image = "ami-0abc",
                              .cpus = 8,
                              .memory_mb = 16384,
                              .cost_per_hour = 0.34,
                              .count = 1};
    ok(ledger_record_boot_intent(l, &g, T0 - 3600, NULL, 0, &err), &err);
    ok(ledger_transition(l, "b0-0", CB_NODE_GONE, T0 - 1800, "never booted", &err), &err);

    struct ledger_node n = {.node_id = "x7-0",
                            .batch_id = "x7",
                            .cloud = "os-site",
                            .flavor = "m1.xlarge",
                            .image = "debian-12",
                            .cpus = 8,
                            .memory_mb = 16384,
                            .cost_per_hour = 0.2,
                            .instance_id = "5f1e-aa",
                            .state = CB_NODE_BUSY,
                            .public_addr = "127.0.0.77"};
    ok(ledger_record_adoption(l, &n, T0 + 4000, &err), &err);

    /* The daemon's last cycle, for explain: one decision taken, two not. */
    struct ledger_cycle cy = {.id = 42,
                              .started_at = NOW - 30,
                              .finished_at = NOW - 29,
                              .idle_jobs = 12,
                              .summary = "1 decision, 2 non-decisions"};
    struct ledger_decision ds[] = {
        {.action = "boot",
         .taken = true,
         .cloud = "aws-eu",
         .flavor = "c5.2xlarge",
         .count = 2,
         .reason = "demand",
         .detail = "12 idle jobs of 1 cpu, 2000 MB"},
        {.action = "boot",
         .cloud = "os-site",
         .flavor = "m1.large",
         .count = 1,
         .reason = "budget_cap",
         .detail = "0.98/h of a 1.00/h cap"},
        {.action = "terminate",
         .cloud = "aws-eu",
         .node_id = "b1-0",
         .count = 1,
         .reason = "min_idle_time",
         .detail = "idle 300 s of 600 s"},
    };
    ok(ledger_record_cycle(l, &cy, ds, 3, 10, &err), &err);
    ledger_close(l);
}

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/cb-ctl-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(dbpath, sizeof dbpath, "%s/ledger.db", tmpdir);
    build_ledger();
}

static void teardown(void)
{
    rm_tree(tmpdir);
}

struct result {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
};

static void result_free(struct result *r)
{
    free(r->out);
    free(r->err);
}

/* Run ctl_main in-process on a space-separated command line, with @LEDGER@
 * and @DIR@ replaced. */
static struct result run(const char *cmdline)
{
    char line[2048], *argv[64];
    int argc = 0;
    size_t o = 0;
    for (const char *p = cmdline; *p && o + 600 < sizeof line; p++) {
        if (strncmp(p, "@LEDGER@", 8) == 0) {
            o += (size_t)snprintf(line + o, sizeof line - o, "%s", dbpath);
            p += 7;
        } else if (strncmp(p, "@DIR@", 5) == 0) {
            o += (size_t)snprintf(line + o, sizeof line - o, "%s", tmpdir);
            p += 4;
        } else {
            line[o++] = *p;
        }
    }
    line[o] = '\0';
    argv[argc++] = "cloudburstctl";
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok && argc < 63;
         tok = strtok_r(NULL, " ", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;
    struct result r = {0};
    FILE *out = open_memstream(&r.out, &r.out_len), *err = open_memstream(&r.err, &r.err_len);
    ck_assert(out && err);
    r.rc = ctl_main(argc, argv, out, err, NOW);
    fclose(out);
    fclose(err);
    return r;
}

static char *subst(const char *text)
{
    size_t cap = strlen(text) + 4096, o = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    for (const char *p = text; *p; p++) {
        ck_assert_uint_lt(o + 600, cap);
        if (strncmp(p, "@LEDGER@", 8) == 0) {
            o += (size_t)snprintf(s + o, cap - o, "%s", dbpath);
            p += 7;
        } else if (strncmp(p, "@DIR@", 5) == 0) {
            o += (size_t)snprintf(s + o, cap - o, "%s", tmpdir);
            p += 4;
        } else if (strncmp(p, "@VERSION@", 9) == 0) {
            o += (size_t)snprintf(s + o, cap - o, "%s", PACKAGE_VERSION);
            p += 8;
        } else {
            s[o++] = *p;
        }
    }
    s[o] = '\0';
    return s;
}

/* ---- cases as data ---------------------------------------------------------- */

/* A case file: "args: ...", "exit: N", optional "stderr: ..." (one exact
 * line) or "stderr-contains: ...", then "--- stdout" and the exact expected output. '#' lines are
 * comments. */
static unsigned run_case(const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char args[1024] = "", want_err[1024] = "", err_part[1024] = "", buf[4096];
    int want_rc = -1;
    bool has_err = false;
    char *want_out = NULL;
    size_t want_len = 0;
    FILE *wo = open_memstream(&want_out, &want_len);
    bool body = false;
    while (fgets(buf, sizeof buf, f)) {
        if (body) {
            fputs(buf, wo);
            continue;
        }
        buf[strcspn(buf, "\n")] = '\0';
        if (buf[0] == '#' || !buf[0])
            continue;
        if (strncmp(buf, "args: ", 6) == 0)
            cb_strlcpy(args, buf + 6, sizeof args);
        else if (strncmp(buf, "exit: ", 6) == 0)
            want_rc = atoi(buf + 6);
        else if (strncmp(buf, "stderr: ", 8) == 0)
            has_err = true, cb_strlcpy(want_err, buf + 8, sizeof want_err);
        else if (strncmp(buf, "stderr-contains: ", 17) == 0)
            cb_strlcpy(err_part, buf + 17, sizeof err_part);
        else if (strcmp(buf, "--- stdout") == 0)
            body = true;
        else
            ck_abort_msg("%s: cannot read line '%s'", name, buf);
    }
    fclose(f);
    fclose(wo);
    ck_assert_msg(args[0] && want_rc >= 0 && body, "%s: needs args, exit and --- stdout", name);

    struct result r = run(args);
    ck_assert_msg(r.rc == want_rc, "%s: exit %d, want %d; stderr: %s", name, r.rc, want_rc, r.err);
    char *exp_out = subst(want_out);
    ck_assert_msg(strcmp(r.out, exp_out) == 0, "%s: stdout differs:\n--- got\n%s--- want\n%s", name,
                  r.out, exp_out);
    if (has_err) {
        char *exp_err = subst(want_err);
        size_t n = strlen(r.err);
        if (n && r.err[n - 1] == '\n')
            r.err[n - 1] = '\0';
        ck_assert_msg(strcmp(r.err, exp_err) == 0, "%s: stderr\n got: %s\nwant: %s", name, r.err,
                      exp_err);
        free(exp_err);
    } else if (err_part[0]) {
        ck_assert_msg(strstr(r.err, err_part) != NULL, "%s: stderr lacks '%s': %s", name, err_part,
                      r.err);
    } else {
        ck_assert_msg(r.err_len == 0, "%s: unexpected stderr: %s", name, r.err);
    }
    free(exp_out);
    free(want_out);
    result_free(&r);
    return 1;
}

START_TEST(test_cases_from_data)
{
    const char *src = getenv("top_srcdir");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/data/ctl", src && *src ? src : ".");
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    char names[128][256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 128) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".case") == 0)
            cb_strlcpy(names[n++], e->d_name, sizeof names[n]);
    }
    closedir(d);
    unsigned ran = 0;
    for (size_t i = 0; i < n; i++)
        ran += run_case(dir, names[i]);
    ck_assert_uint_ge(ran, 10);
}
END_TEST

/* ---- JSON ------------------------------------------------------------------- */

static json_object *run_json(const char *cmdline)
{
    struct result r = run(cmdline);
    ck_assert_msg(r.rc == 0, "%s: exit %d: %s", cmdline, r.rc, r.err);
    json_object *doc = json_tokener_parse(r.out);
    ck_assert_msg(doc != NULL, "not JSON: %s", r.out);
    result_free(&r);
    return doc;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s", key);
    return v;
}

static const char *str(json_object *o, const char *key)
{
    return json_object_get_string(get(o, key));
}

static int64_t num(json_object *o, const char *key)
{
    return json_object_get_int64(get(o, key));
}

START_TEST(test_status_json)
{
    json_object *doc = run_json("--ledger @LEDGER@ --json status");
    ck_assert_str_eq(str(doc, "ledger"), dbpath);
    ck_assert_int_eq(num(doc, "schema_version"), LEDGER_SCHEMA_VERSION);
    json_object *clouds = get(doc, "clouds");
    ck_assert_uint_eq(json_object_array_length(clouds), 2);
    json_object *aws = json_object_array_get_idx(clouds, 0);
    ck_assert_str_eq(str(aws, "cloud"), "aws-eu");
    json_object *st = get(aws, "states");
    ck_assert_int_eq(num(st, "idle"), 1);
    ck_assert_int_eq(num(st, "failed"), 1);
    ck_assert_int_eq(num(st, "gone"), 1);
    ck_assert_int_eq(num(st, "requested"), 0);
    ck_assert_int_eq(json_object_object_length(st), CB_NODE__COUNT);
    ck_assert_int_eq(num(aws, "live"), 2);
    ck_assert_int_eq(num(aws, "live_cpus"), 16);
    ck_assert(fabs(json_object_get_double(get(aws, "live_cost_per_hour")) - 0.68) < 1e-9);
    json_object *total = get(doc, "total");
    ck_assert_int_eq(num(total, "live"), 4);
    ck_assert_int_eq(num(total, "live_cpus"), 28);
    ck_assert_int_eq(num(get(total, "states"), "busy"), 1);
    json_object_put(doc);
}
END_TEST

START_TEST(test_nodes_json)
{
    json_object *doc = run_json("--ledger @LEDGER@ nodes --all --json");
    json_object *nodes = get(doc, "nodes");
    ck_assert_uint_eq(json_object_array_length(nodes), 5);
    json_object *n = json_object_array_get_idx(nodes, 1); /* aws-eu b1-0 (b0-0 first) */
    ck_assert_str_eq(str(n, "node_id"), "b1-0");
    ck_assert_str_eq(str(n, "state"), "idle");
    ck_assert_str_eq(str(n, "instance_id"), "i-0a1");
    ck_assert_str_eq(str(n, "private_addr"), "127.0.0.11");
    ck_assert_int_eq(num(n, "cpus"), 8);
    ck_assert_int_eq(num(n, "memory_mb"), 16384);
    ck_assert_int_eq(num(n, "state_since"), T0 + 300);
    json_object *at = get(n, "entered");
    ck_assert_int_eq(num(at, "requested"), T0);
    ck_assert_int_eq(num(at, "booting"), T0 + 30);
    ck_assert(json_object_get_type(get(at, "gone")) == json_type_null);
    ck_assert(!json_object_get_boolean(get(n, "adopted")));
    json_object *f = json_object_array_get_idx(nodes, 2);
    ck_assert_str_eq(str(f, "node_id"), "b1-1");
    ck_assert_str_eq(str(f, "last_error"), "InsufficientInstanceCapacity???[31mfake");
    ck_assert_int_eq(num(f, "failure_count"), 1);
    ck_assert(json_object_get_type(get(f, "instance_id")) == json_type_null);
    json_object *x = json_object_array_get_idx(nodes, 4);
    ck_assert_str_eq(str(x, "node_id"), "x7-0");
    ck_assert(json_object_get_boolean(get(x, "adopted")));
    json_object_put(doc);

    doc = run_json("--json --ledger @LEDGER@ nodes --state requested");
    nodes = get(doc, "nodes");
    ck_assert_uint_eq(json_object_array_length(nodes), 1);
    ck_assert_str_eq(str(json_object_array_get_idx(nodes, 0), "node_id"), "b2-0");
    json_object_put(doc);
}
END_TEST

START_TEST(test_events_json)
{
    json_object *doc = run_json("--json --ledger @LEDGER@ events --node b1-0");
    json_object *ev = get(doc, "events");
    ck_assert_uint_eq(json_object_array_length(ev), 6);
    json_object *first = json_object_array_get_idx(ev, 0);
    ck_assert_str_eq(str(first, "kind"), "intent");
    ck_assert(json_object_get_type(get(first, "from")) == json_type_null);
    ck_assert_str_eq(str(first, "to"), "requested");
    ck_assert_int_eq(num(first, "time"), T0);
    json_object *last = json_object_array_get_idx(ev, 5);
    ck_assert_str_eq(str(last, "from"), "bootstrapping");
    ck_assert_str_eq(str(last, "to"), "idle");
    ck_assert_str_eq(str(last, "detail"), "startd joined");
    ck_assert_int_gt(num(last, "id"), num(first, "id"));
    json_object_put(doc);

    /* --since as a duration is relative to now: T0 + 7200 - 1h = T0 + 3600 */
    doc = run_json("--ledger @LEDGER@ events --since 1h --json");
    ev = get(doc, "events");
    ck_assert_uint_eq(json_object_array_length(ev), 2);
    ck_assert_str_eq(str(json_object_array_get_idx(ev, 0), "node_id"), "b2-0");
    ck_assert_str_eq(str(json_object_array_get_idx(ev, 1), "kind"), "adopt");
    json_object_put(doc);
}
END_TEST

/* ---- pieces ---------------------------------------------------------------- */

START_TEST(test_parse_time)
{
    struct cb_err err = CB_ERR_INIT;
    int64_t t;
    ck_assert_int_eq(ctl_parse_time("2026-11-22T04:00:00Z", NOW, &t, &err), 0);
    ck_assert_int_eq(t, T0);
    ck_assert_int_eq(ctl_parse_time("2026-11-22T04:00:00", NOW, &t, &err), 0);
    ck_assert_int_eq(t, T0);
    ck_assert_int_eq(ctl_parse_time("2026-11-22 04:30", NOW, &t, &err), 0);
    ck_assert_int_eq(t, T0 + 1800);
    ck_assert_int_eq(ctl_parse_time("2026-11-22", NOW, &t, &err), 0);
    ck_assert_int_eq(t, T0 - 4 * 3600);
    ck_assert_int_eq(ctl_parse_time("30m", NOW, &t, &err), 0);
    ck_assert_int_eq(t, NOW - 1800);
    ck_assert_int_eq(ctl_parse_time("2h", NOW, &t, &err), 0);
    ck_assert_int_eq(t, NOW - 7200);
    ck_assert_int_eq(ctl_parse_time("1d", NOW, &t, &err), 0);
    ck_assert_int_eq(t, NOW - 86400);
    ck_assert_int_eq(ctl_parse_time("2w", NOW, &t, &err), 0);
    ck_assert_int_eq(t, NOW - 14 * 86400);
    ck_assert_int_eq(ctl_parse_time("45s", NOW, &t, &err), 0);
    ck_assert_int_eq(t, NOW - 45);
    static const char *const bad[] = {"",
                                      "yesterday",
                                      "2h30m",
                                      "-2h",
                                      "0h",
                                      "2x",
                                      "1e3s",
                                      "2026-13-01",
                                      "2026-11-22T25:00",
                                      "99999999999999999999d",
                                      "1969-12-31",
                                      "2026-11-22Tjunk",
                                      "2026-02-30",
                                      "2026-11-22T23:59:60Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cb_err_clear(&err);
        ck_assert_msg(ctl_parse_time(bad[i], NOW, &t, &err) == -1, "accepted '%s'", bad[i]);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_ptr_nonnull(strstr(err.msg, "--since"));
    }
    char buf[32];
    ck_assert_str_eq(ctl_format_time(T0, buf, sizeof buf), "2026-11-22T04:00:00Z");
    ck_assert_str_eq(ctl_format_time(-1, buf, sizeof buf), "-");
}
END_TEST

START_TEST(test_table_alignment_counts_characters)
{
    static const char *const h[] = {"NAME", "N", "NOTE"};
    struct ctl_table *t = ctl_table_new(3, h, 1u << 1);
    ck_assert_ptr_nonnull(t);
    const char *r1[] = {"caf\xc3\xa9", "7", "last column is not padded"};
    const char *r2[] = {"x", "1234", NULL};
    ck_assert_int_eq(ctl_table_add(t, r1), 0);
    ck_assert_int_eq(ctl_table_add(t, r2), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ctl_table_print(t, f);
    fclose(f);
    ck_assert_str_eq(buf, "NAME     N  NOTE\n"
                          "caf\xc3\xa9     7  last column is not padded\n"
                          "x     1234  -\n");
    free(buf);
    ctl_table_free(t);
    ck_assert_ptr_null(ctl_table_new(0, h, 0));
}
END_TEST

START_TEST(test_config_gives_ledger_path)
{
    char conf[700];
    snprintf(conf, sizeof conf, "%s/cloudburst.conf", tmpdir);
    /* A minimal valid configuration (real loader, providers and secrets not
     * opened): its ledger.path is where cloudburstctl reads. */
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "pool = { name = \"t2\"; central_manager = \"cm.example.org\"; };\n"
            "bootstrap = { ssh = { key_file = \"/etc/cloudburst/id_ed25519\"; };\n"
            "  condor = { token_file = \"/etc/cloudburst/pool.token\"; }; };\n"
            "clouds = ( { name = \"aws-eu\"; provider = \"ec2\"; image = \"ami-1\";\n"
            "  flavors = ( { name = \"c5.large\"; cpus = 2; memory_mb = 4096;"
            " cost_per_hour = 0.1; } ); ec2 = { }; } );\n"
            "ledger = { path = \"%s\"; busy_timeout_ms = 100; };\n",
            dbpath);
    fclose(f);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "--config %s --json status", conf);
    json_object *doc = run_json(cmd);
    ck_assert_str_eq(json_object_get_string(json_object_object_get(doc, "ledger")), dbpath);
    json_object_put(doc);

    /* A configuration that fails validation: the loader's message, which
     * names file and line, and exit 1. */
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "pool = {\n  nmae = \"typo\";\n};\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "--config %s status", conf);
    struct result r = run(cmd);
    ck_assert_int_eq(r.rc, CTL_EXIT_ERROR);
    char want[800];
    snprintf(want, sizeof want, "cloudburstctl: status: %s:2: ", conf);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "stderr: %s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, "pool.nmae"));
    ck_assert_uint_eq(r.out_len, 0);
    result_free(&r);

    /* A configuration file that does not exist. */
    snprintf(cmd, sizeof cmd, "--config %s/none.conf nodes", tmpdir);
    r = run(cmd);
    ck_assert_int_eq(r.rc, CTL_EXIT_ERROR);
    ck_assert_ptr_nonnull(strstr(r.err, "none.conf"));
    result_free(&r);
}
END_TEST

/* The real binary: main(), stdout, and the exit status through exec. */
START_TEST(test_binary_runs)
{
    const char *build = getenv("top_builddir");
    char bin[1024];
    snprintf(bin, sizeof bin, "%s/src/cloudburstctl", build && *build ? build : ".");
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(bin, "cloudburstctl", "--ledger", dbpath, "nodes", "--state", "busy", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char out[4096];
    size_t n = 0;
    ssize_t k;
    while ((k = read(p[0], out + n, sizeof out - 1 - n)) > 0)
        n += (size_t)k;
    out[n] = '\0';
    close(p[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_ptr_nonnull(strstr(out, "x7-0"));
    ck_assert_ptr_nonnull(strstr(out, "NODE"));

    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        execl(bin, "cloudburstctl", "--ledger", "/nonexistent/ledger.db", "status", (char *)NULL);
        _exit(127);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), CTL_EXIT_UNAVAILABLE);
}
END_TEST

/* An empty ledger: headers and a zero TOTAL row; JSON with no clouds. */
START_TEST(test_empty_ledger)
{
    char path[700];
    snprintf(path, sizeof path, "%s/empty.db", tmpdir);
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, path, LEDGER_READ_WRITE, 0, &err), &err);
    ledger_close(l);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "--ledger %s status", path);
    struct result r = run(cmd);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.out, "CLOUD  REQUESTED  BOOTING  BOOTSTRAPPING  IDLE  BUSY  DRAINING  "
                            "TERMINATING  FAILED  GONE  LIVE  CPUS  COST/H\n"
                            "TOTAL          0        0              0     0     0         0  "
                            "          0       0     0     0     0    0.00\n");
    result_free(&r);
    snprintf(cmd, sizeof cmd, "--ledger %s --json status", path);
    json_object *doc = run_json(cmd);
    ck_assert_uint_eq(json_object_array_length(get(doc, "clouds")), 0);
    ck_assert_int_eq(num(get(doc, "total"), "live"), 0);
    json_object_put(doc);
    snprintf(cmd, sizeof cmd, "--ledger %s --json events", path);
    doc = run_json(cmd);
    ck_assert_uint_eq(json_object_array_length(get(doc, "events")), 0);
    json_object_put(doc);
}
END_TEST

/* Text with quotes, backslashes, markup and non-ASCII survives JSON intact;
 * control characters were already replaced by the ledger. */
START_TEST(test_json_escaping)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    const char *text = "say \"hi\" C:\\tmp </script> caf\xc3\xa9\ttab";
    ok(ledger_record_failure(l, "b2-0", text, NOW, &err), &err);
    ledger_close(l);
    json_object *doc = run_json("--ledger @LEDGER@ --json nodes --state requested");
    json_object *n = json_object_array_get_idx(get(doc, "nodes"), 0);
    ck_assert_str_eq(str(n, "last_error"), "say \"hi\" C:\\tmp </script> caf\xc3\xa9?tab");
    json_object_put(doc);
    doc = run_json("--ledger @LEDGER@ --json events --node b2-0 --limit 1");
    json_object *e = json_object_array_get_idx(get(doc, "events"), 0);
    ck_assert_str_eq(str(e, "kind"), "failure");
    ck_assert_str_eq(str(e, "detail"), "say \"hi\" C:\\tmp </script> caf\xc3\xa9?tab");
    json_object_put(doc);
}
END_TEST

/* Another schema: exit 3, the ledger untouched. */
START_TEST(test_newer_ledger_unavailable)
{
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", LEDGER_SCHEMA_VERSION + 1);
    ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct result r = run("--ledger @LEDGER@ --json nodes");
    ck_assert_int_eq(r.rc, CTL_EXIT_UNAVAILABLE);
    ck_assert_uint_eq(r.out_len, 0);
    char want[900];
    snprintf(want, sizeof want,
             "cloudburstctl: nodes: ledger %s has schema version %d, newer than this cloudburst "
             "understands (%d): refusing to touch it (upgrade cloudburst)\n",
             dbpath, LEDGER_SCHEMA_VERSION + 1, LEDGER_SCHEMA_VERSION);
    ck_assert_str_eq(r.err, want);
    result_free(&r);
}
END_TEST

/* A writer holding the lock does not stop the CLI. */
START_TEST(test_reads_while_daemon_writes)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    ok(ledger_transition(l, "b2-0", CB_NODE_BOOTING, NOW, NULL, &err), &err);
    json_object *doc = run_json("--json --ledger @LEDGER@ nodes --state booting");
    ck_assert_uint_eq(json_object_array_length(get(doc, "nodes")), 1);
    json_object_put(doc);
    ledger_close(l);
}
END_TEST

/* ---- explain ------------------------------------------------------------------ */

START_TEST(test_explain_json)
{
    json_object *doc = run_json("--ledger @LEDGER@ --json explain");
    json_object *c = get(doc, "cycle");
    ck_assert_int_eq(num(c, "id"), 42);
    ck_assert_int_eq(num(c, "started_at"), NOW - 30);
    ck_assert_int_eq(num(c, "finished_at"), NOW - 29);
    ck_assert(!json_object_get_boolean(get(c, "dry_run")));
    ck_assert_int_eq(num(c, "idle_jobs"), 12);
    ck_assert_str_eq(str(c, "summary"), "1 decision, 2 non-decisions");
    ck_assert(!json_object_get_boolean(get(doc, "paused")));
    ck_assert_ptr_null(get(doc, "paused_changed_at"));
    json_object *ds = get(doc, "decisions");
    ck_assert_uint_eq(json_object_array_length(ds), 3);
    json_object *d = json_object_array_get_idx(ds, 0);
    ck_assert_str_eq(str(d, "action"), "boot");
    ck_assert(json_object_get_boolean(get(d, "taken")));
    ck_assert_str_eq(str(d, "cloud"), "aws-eu");
    ck_assert_str_eq(str(d, "flavor"), "c5.2xlarge");
    ck_assert_ptr_null(get(d, "node_id"));
    ck_assert_int_eq(num(d, "count"), 2);
    ck_assert_str_eq(str(d, "reason"), "demand");
    ck_assert_str_eq(str(d, "detail"), "12 idle jobs of 1 cpu, 2000 MB");
    d = json_object_array_get_idx(ds, 1);
    ck_assert(!json_object_get_boolean(get(d, "taken")));
    ck_assert_str_eq(str(d, "cloud"), "os-site");
    ck_assert_str_eq(str(d, "reason"), "budget_cap");
    d = json_object_array_get_idx(ds, 2);
    ck_assert_str_eq(str(d, "action"), "terminate");
    ck_assert(!json_object_get_boolean(get(d, "taken")));
    ck_assert_str_eq(str(d, "node_id"), "b1-0");
    ck_assert_ptr_null(get(d, "flavor"));
    ck_assert_str_eq(str(d, "reason"), "min_idle_time");
    ck_assert_uint_eq(json_object_array_length(get(doc, "pending_requests")), 0);
    json_object_put(doc);
}
END_TEST

/* The newest cycle wins; a dry run says so; a cycle without decisions too. */
START_TEST(test_explain_dry_run_cycle)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    struct ledger_cycle cy = {
        .id = 43, .started_at = NOW, .finished_at = NOW + 2, .dry_run = true, .idle_jobs = 1};
    ok(ledger_record_cycle(l, &cy, NULL, 0, 10, &err), &err);
    ledger_close(l);
    struct result r = run("--ledger @LEDGER@ explain");
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.out, "cycle 43: 2026-11-22T06:00:00Z .. 2026-11-22T06:00:02Z (dry run: "
                            "nothing was acted on), 1 idle job\n"
                            "\n"
                            "no decisions recorded for this cycle\n");
    result_free(&r);
    json_object *doc = run_json("--ledger @LEDGER@ explain --json");
    json_object *c = get(doc, "cycle");
    ck_assert_int_eq(num(c, "id"), 43);
    ck_assert(json_object_get_boolean(get(c, "dry_run")));
    ck_assert_str_eq(str(c, "summary"), "");
    ck_assert_uint_eq(json_object_array_length(get(doc, "decisions")), 0);
    json_object_put(doc);
}
END_TEST

/* No cycle yet: exit 1 with a message that says so. */
START_TEST(test_explain_without_cycle)
{
    char path[700], cmd[800];
    snprintf(path, sizeof path, "%s/fresh.db", tmpdir);
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, path, LEDGER_READ_WRITE, 0, &err), &err);
    ledger_close(l);
    snprintf(cmd, sizeof cmd, "--ledger %s explain", path);
    struct result r = run(cmd);
    ck_assert_int_eq(r.rc, CTL_EXIT_ERROR);
    ck_assert_uint_eq(r.out_len, 0);
    char want[1024];
    snprintf(want, sizeof want,
             "cloudburstctl: explain: no cycle recorded in %s yet: cloudburstd has not finished "
             "a cycle on this ledger\n",
             path);
    ck_assert_str_eq(r.err, want);
    result_free(&r);
}
END_TEST

/* ---- requests ------------------------------------------------------------------ */

static const char *me(void)
{
    static char name[256];
    struct passwd *pw = getpwuid(geteuid());
    if (pw)
        cb_strlcpy(name, pw->pw_name, sizeof name);
    else
        snprintf(name, sizeof name, "uid-%lu", (unsigned long)geteuid());
    return name;
}

static struct ledger_request_list requests(bool pending_only)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_ONLY, 1000, &err), &err);
    struct ledger_request_list list;
    ok(ledger_list_requests(l, pending_only, &list, &err), &err);
    ledger_close(l);
    return list;
}

START_TEST(test_pause_resume_requests)
{
    struct result r = run("--ledger @LEDGER@ pause");
    ck_assert_msg(r.rc == 0, "%s", r.err);
    char want[512];
    snprintf(want, sizeof want,
             "requested: pause (request 1 by %s)\n"
             "cloudburstd acts on it at its next cycle; see `cloudburstctl events`\n",
             me());
    ck_assert_str_eq(r.out, want);
    ck_assert_uint_eq(r.err_len, 0);
    result_free(&r);
    struct ledger_request_list list = requests(true);
    ck_assert_uint_eq(list.n, 1);
    ck_assert_int_eq(list.items[0].id, 1);
    ck_assert_int_eq(list.items[0].kind, LEDGER_REQ_PAUSE);
    ck_assert_str_eq(list.items[0].node_id, "");
    ck_assert(!list.items[0].force);
    ck_assert_str_eq(list.items[0].requested_by, me());
    ck_assert_int_eq(list.items[0].created_at, NOW);
    ck_assert_int_eq(list.items[0].status, LEDGER_REQ_PENDING);
    ledger_request_list_free(&list);

    json_object *doc = run_json("--ledger @LEDGER@ resume --json");
    json_object *q = get(doc, "request");
    ck_assert_int_eq(num(q, "id"), 2);
    ck_assert_str_eq(str(q, "kind"), "resume");
    ck_assert_ptr_null(get(q, "node_id"));
    ck_assert(!json_object_get_boolean(get(q, "force")));
    ck_assert_str_eq(str(q, "requested_by"), me());
    ck_assert_int_eq(num(q, "created_at"), NOW);
    ck_assert_str_eq(str(q, "status"), "pending");
    ck_assert_ptr_null(get(q, "handled_at"));
    ck_assert_ptr_null(get(q, "result"));
    ck_assert_str_eq(str(doc, "acted_on"), "next cycle");
    json_object_put(doc);

    /* The daemon's side (as cycle.c does it): pause handled, flag set;
     * explain then shows the pause and the resume still waiting. */
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    ok(ledger_finish_request(l, 1, LEDGER_REQ_DONE, "paused", NOW + 1, &err), &err);
    ok(ledger_set_flag(l, "paused", "1", NOW + 1, &err), &err);
    ledger_close(l);
    doc = run_json("--ledger @LEDGER@ --json explain");
    ck_assert(json_object_get_boolean(get(doc, "paused")));
    ck_assert_int_eq(num(doc, "paused_changed_at"), NOW + 1);
    json_object *pending = get(doc, "pending_requests");
    ck_assert_uint_eq(json_object_array_length(pending), 1);
    ck_assert_str_eq(str(json_object_array_get_idx(pending, 0), "kind"), "resume");
    ck_assert_int_eq(num(json_object_array_get_idx(pending, 0), "id"), 2);
    json_object_put(doc);
    r = run("--ledger @LEDGER@ explain");
    ck_assert_int_eq(r.rc, 0);
    ck_assert_ptr_nonnull(strstr(r.out, ", 12 idle jobs, paused (no scale-up)\n"));
    snprintf(want, sizeof want, "\nrequests waiting for the next cycle:\n"
                                "ID  KIND    NODE  FORCE  BY");
    ck_assert_ptr_nonnull(strstr(r.out, want));
    ck_assert_ptr_nonnull(strstr(r.out, " 2  resume  -     no     "));
    result_free(&r);
}
END_TEST

START_TEST(test_drain_terminate_requests)
{
    struct result r = run("--ledger @LEDGER@ drain b1-0");
    ck_assert_msg(r.rc == 0, "%s", r.err);
    char want[512];
    snprintf(want, sizeof want, "requested: drain b1-0 (request 1 by %s)\n", me());
    ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
    result_free(&r);
    r = run("--ledger @LEDGER@ terminate x7-0");
    ck_assert_msg(r.rc == 0, "%s", r.err);
    snprintf(want, sizeof want, "requested: terminate x7-0 after draining it (request 2 by %s)\n",
             me());
    ck_assert_msg(strncmp(r.out, want, strlen(want)) == 0, "%s", r.out);
    result_free(&r);
    json_object *doc = run_json("--ledger @LEDGER@ --json terminate --force b2-0");
    json_object *q = get(doc, "request");
    ck_assert_int_eq(num(q, "id"), 3);
    ck_assert_str_eq(str(q, "kind"), "terminate");
    ck_assert_str_eq(str(q, "node_id"), "b2-0");
    ck_assert(json_object_get_boolean(get(q, "force")));
    ck_assert_str_eq(str(q, "status"), "pending");
    json_object_put(doc);

    /* Refused before anything is written: gone, unknown, not a node id,
     * missing, two nodes, an option drain does not have. */
    static const struct {
        const char *cmd;
        int rc;
        const char *err;
    } bad[] = {
        {"--ledger @LEDGER@ drain b0-0", CTL_EXIT_ERROR,
         "cloudburstctl: drain: b0-0: node is gone, nothing to drain\n"},
        {"--ledger @LEDGER@ terminate b0-0 --force", CTL_EXIT_ERROR,
         "cloudburstctl: terminate: b0-0: node is gone, nothing to terminate\n"},
        {"--ledger @LEDGER@ drain zz-9", CTL_EXIT_ERROR,
         "cloudburstctl: drain: zz-9: no such node in @LEDGER@ (see cloudburstctl nodes)\n"},
        {"--ledger @LEDGER@ drain a/b", CTL_EXIT_USAGE,
         "cloudburstctl: drain: NODE: 'a/b' is not a node id\n"},
        {"--ledger @LEDGER@ drain", CTL_EXIT_USAGE,
         "cloudburstctl: drain: missing argument NODE (see cloudburstctl --help)\n"},
        {"--ledger @LEDGER@ terminate b1-0 x7-0", CTL_EXIT_USAGE,
         "cloudburstctl: terminate: unexpected argument 'x7-0'\n"},
        {"--ledger @LEDGER@ drain b1-0 --force", CTL_EXIT_USAGE,
         "cloudburstctl: drain: unknown option '--force' (see cloudburstctl --help)\n"},
        {"--ledger @LEDGER@ pause now", CTL_EXIT_USAGE,
         "cloudburstctl: pause: unexpected argument 'now'\n"},
        {"--ledger @DIR@/none.db pause", CTL_EXIT_UNAVAILABLE, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = run(bad[i].cmd);
        ck_assert_msg(r.rc == bad[i].rc, "%s: exit %d: %s", bad[i].cmd, r.rc, r.err);
        ck_assert_uint_eq(r.out_len, 0);
        if (bad[i].err) {
            char *w = subst(bad[i].err);
            ck_assert_str_eq(r.err, w);
            free(w);
        } else {
            ck_assert_uint_gt(r.err_len, 0);
        }
        result_free(&r);
    }

    struct ledger_request_list list = requests(false);
    ck_assert_uint_eq(list.n, 3);
    ck_assert_int_eq(list.items[0].kind, LEDGER_REQ_DRAIN);
    ck_assert_str_eq(list.items[0].node_id, "b1-0");
    ck_assert(!list.items[0].force);
    ck_assert_int_eq(list.items[1].kind, LEDGER_REQ_TERMINATE);
    ck_assert_str_eq(list.items[1].node_id, "x7-0");
    ck_assert(!list.items[1].force);
    ck_assert_int_eq(list.items[2].kind, LEDGER_REQ_TERMINATE);
    ck_assert_str_eq(list.items[2].node_id, "b2-0");
    ck_assert(list.items[2].force);
    for (size_t i = 0; i < list.n; i++) {
        ck_assert_str_eq(list.items[i].requested_by, me());
        ck_assert_int_eq(list.items[i].status, LEDGER_REQ_PENDING);
    }
    ledger_request_list_free(&list);
    /* Each request left a "request" event behind. */
    doc = run_json("--ledger @LEDGER@ --json events --limit 3");
    json_object *ev = get(doc, "events");
    ck_assert_uint_eq(json_object_array_length(ev), 3);
    for (size_t i = 0; i < 3; i++)
        ck_assert_str_eq(str(json_object_array_get_idx(ev, i), "kind"), "request");
    json_object_put(doc);
}
END_TEST

/* A daemon holding the writer lock does not stop a request (SQLite
 * serialises the one INSERT with the daemon's transactions). */
START_TEST(test_request_while_daemon_runs)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    struct result r = run("--ledger @LEDGER@ pause");
    ck_assert_msg(r.rc == 0, "%s", r.err);
    result_free(&r);
    struct ledger_request_list list;
    ok(ledger_list_requests(l, true, &list, &err), &err);
    ck_assert_uint_eq(list.n, 1);
    ck_assert_int_eq(list.items[0].kind, LEDGER_REQ_PAUSE);
    ledger_request_list_free(&list);
    ledger_close(l);
}
END_TEST

/* ---- accounting ------------------------------------------------------------------ */

/* The figures of build_ledger() by hand (NOW = T0 + 2 h):
 *   b1-0 aws-eu c5.2xlarge 8 cpus 0.34/h: booting at T0+30 .. now   = 7170 s
 *   b1-1 aws-eu c5.2xlarge 8 cpus 0.34/h: never accepted, requested
 *        at T0, failed (not gone) .. now                          = 7200 s
 *   b0-0 aws-eu c5.2xlarge 8 cpus 0.34/h: requested T0-1h .. gone T0-30m = 1800 s
 *   b2-0 os-site m1.large  4 cpus 0.10/h: requested T0+1h .. now  = 3600 s
 *   x7-0 os-site m1.xlarge 8 cpus 0.20/h: adopted at T0+4000 .. now = 3200 s */
#define AWS_VM (7170 + 7200 + 1800)
#define OS_VM (3600 + 3200)
#define OS_CORE (3600 * 4 + 3200 * 8)

static void check_group(json_object *g, int64_t nodes, int64_t vm_s, int64_t core_s, double cost)
{
    ck_assert_int_eq(num(g, "nodes"), nodes);
    ck_assert_int_eq(num(g, "vm_seconds"), vm_s);
    ck_assert_int_eq(num(g, "core_seconds"), core_s);
    ck_assert_double_eq_tol(json_object_get_double(get(g, "vm_hours")), vm_s / 3600.0, 1e-9);
    ck_assert_double_eq_tol(json_object_get_double(get(g, "core_hours")), core_s / 3600.0, 1e-9);
    ck_assert_double_eq_tol(json_object_get_double(get(g, "cost")), cost, 1e-9);
    ck_assert_int_eq(num(g, "nodes_without_cpus"), 0);
}

START_TEST(test_accounting_json)
{
    json_object *doc = run_json("--ledger @LEDGER@ --json accounting");
    ck_assert_str_eq(str(doc, "by"), "cloud");
    ck_assert_ptr_null(get(doc, "since"));
    ck_assert_int_eq(num(doc, "until"), NOW);
    json_object *gs = get(doc, "groups");
    ck_assert_uint_eq(json_object_array_length(gs), 2);
    json_object *aws = json_object_array_get_idx(gs, 0), *os = json_object_array_get_idx(gs, 1);
    ck_assert_str_eq(str(aws, "cloud"), "aws-eu");
    check_group(aws, 3, AWS_VM, AWS_VM * 8, AWS_VM * 0.34 / 3600);
    ck_assert_str_eq(str(os, "cloud"), "os-site");
    check_group(os, 2, OS_VM, OS_CORE, 3600 * 0.1 / 3600 + 3200 * 0.2 / 3600);
    check_group(get(doc, "total"), 5, AWS_VM + OS_VM, AWS_VM * 8 + OS_CORE,
                AWS_VM * 0.34 / 3600 + 0.1 + 3200 * 0.2 / 3600);
    json_object_put(doc);

    /* --since 1h (T0+1h): b0-0 drops out, b1-0 and b1-1 count one hour each. */
    doc = run_json("--ledger @LEDGER@ --json accounting --since 1h --by flavor");
    ck_assert_str_eq(str(doc, "by"), "flavor");
    ck_assert_int_eq(num(doc, "since"), T0 + 3600);
    gs = get(doc, "groups");
    ck_assert_uint_eq(json_object_array_length(gs), 3);
    json_object *g = json_object_array_get_idx(gs, 0);
    ck_assert_str_eq(str(g, "cloud"), "aws-eu");
    ck_assert_str_eq(str(g, "flavor"), "c5.2xlarge");
    check_group(g, 2, 7200, 7200 * 8, 2 * 0.34);
    g = json_object_array_get_idx(gs, 1);
    ck_assert_str_eq(str(g, "cloud"), "os-site");
    ck_assert_str_eq(str(g, "flavor"), "m1.large");
    check_group(g, 1, 3600, 3600 * 4, 0.1);
    g = json_object_array_get_idx(gs, 2);
    ck_assert_str_eq(str(g, "flavor"), "m1.xlarge");
    check_group(g, 1, 3200, 3200 * 8, 3200 * 0.2 / 3600);
    json_object_put(doc);

    /* An ISO --since after everything but the adopted node's start. */
    doc = run_json("--ledger @LEDGER@ --json accounting --since=2026-11-22T05:50:00Z");
    ck_assert_int_eq(num(doc, "since"), NOW - 600);
    check_group(get(doc, "total"), 4, 4 * 600, 600 * (8 + 8 + 4 + 8),
                600 * (0.34 + 0.34 + 0.1 + 0.2) / 3600);
    json_object_put(doc);
}
END_TEST

/* --by day splits a node's time at UTC midnight. */
START_TEST(test_accounting_by_day)
{
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, dbpath, LEDGER_READ_WRITE, 1000, &err), &err);
    /* booted 2026-11-21T23:00Z, accepted 23:10, gone 2026-11-22T01:30Z */
    struct ledger_intent n = {.batch_id = "d1",
                              .cloud = "aws-eu",
                              .flavor = "c5.large",
                              .image = "ami-0abc",
                              .cpus = 2,
                              .memory_mb = 4096,
                              .cost_per_hour = 0.09,
                              .count = 1};
    ok(ledger_record_boot_intent(l, &n, T0 - 5 * 3600, NULL, 0, &err), &err);
    ok(ledger_transition(l, "d1-0", CB_NODE_BOOTING, T0 - 5 * 3600 + 600, NULL, &err), &err);
    ok(ledger_transition(l, "d1-0", CB_NODE_TERMINATING, T0 - 9000, NULL, &err), &err);
    ok(ledger_transition(l, "d1-0", CB_NODE_GONE, T0 - 9000, NULL, &err), &err);
    ledger_close(l);
    json_object *doc = run_json("--ledger @LEDGER@ --json accounting --by day");
    json_object *gs = get(doc, "groups");
    ck_assert_uint_eq(json_object_array_length(gs), 2);
    json_object *d21 = json_object_array_get_idx(gs, 0), *d22 = json_object_array_get_idx(gs, 1);
    ck_assert_str_eq(str(d21, "day"), "2026-11-21");
    check_group(d21, 1, 3000, 3000 * 2, 3000 * 0.09 / 3600); /* 23:10 .. 24:00 */
    ck_assert_str_eq(str(d22, "day"), "2026-11-22");
    check_group(d22, 6, AWS_VM + OS_VM + 5400, AWS_VM * 8 + OS_CORE + 5400 * 2,
                AWS_VM * 0.34 / 3600 + 0.1 + 3200 * 0.2 / 3600 + 5400 * 0.09 / 3600);
    check_group(get(doc, "total"), 6, AWS_VM + OS_VM + 8400, AWS_VM * 8 + OS_CORE + 8400 * 2,
                AWS_VM * 0.34 / 3600 + 0.1 + 3200 * 0.2 / 3600 + 8400 * 0.09 / 3600);
    json_object_put(doc);
}
END_TEST

/* No nodes: a zero TOTAL; a node without a CPU count adds no core-hours and
 * is said so. */
START_TEST(test_accounting_empty_and_unknown_cpus)
{
    char path[700], cmd[800];
    snprintf(path, sizeof path, "%s/acc.db", tmpdir);
    struct ledger *l = NULL;
    struct cb_err err = CB_ERR_INIT;
    ok(ledger_open(&l, path, LEDGER_READ_WRITE, 0, &err), &err);
    ledger_close(l);
    snprintf(cmd, sizeof cmd, "--ledger %s accounting", path);
    struct result r = run(cmd);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.out, "from the first record to 2026-11-22T06:00:00Z (seconds counted "
                            "exactly, not rounded to billing units)\n"
                            "CLOUD  NODES  VM-HOURS  CORE-HOURS  COST\n"
                            "TOTAL      0      0.00        0.00  0.00\n");
    result_free(&r);
    snprintf(cmd, sizeof cmd, "--ledger %s accounting --csv --by flavor", path);
    r = run(cmd);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_str_eq(r.out, "cloud,flavor,nodes,vm_seconds,vm_hours,core_seconds,core_hours,cost\n");
    result_free(&r);

    ok(ledger_open(&l, path, LEDGER_READ_WRITE, 0, &err), &err);
    struct ledger_node n = {.node_id = "old-0",
                            .batch_id = "old",
                            .cloud = "os-site",
                            .flavor = "m1.small",
                            .image = "debian-12",
                            .cpus = 0,
                            .cost_per_hour = 0.05,
                            .instance_id = "77aa",
                            .state = CB_NODE_IDLE};
    ok(ledger_record_adoption(l, &n, NOW - 1800, &err), &err);
    ledger_close(l);
    snprintf(cmd, sizeof cmd, "--ledger %s --json accounting", path);
    json_object *doc = run_json(cmd);
    json_object *t = get(doc, "total");
    ck_assert_int_eq(num(t, "nodes"), 1);
    ck_assert_int_eq(num(t, "vm_seconds"), 1800);
    ck_assert_int_eq(num(t, "core_seconds"), 0);
    ck_assert_int_eq(num(t, "nodes_without_cpus"), 1);
    ck_assert_double_eq_tol(json_object_get_double(get(t, "cost")), 0.025, 1e-12);
    json_object_put(doc);
    snprintf(cmd, sizeof cmd, "--ledger %s accounting", path);
    r = run(cmd);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "os-site      1      0.50        0.00  0.03\n"));
    ck_assert_ptr_nonnull(
        strstr(r.out, "note: 1 node(s) recorded without a CPU count: no core-hours for them\n"));
    result_free(&r);
}
END_TEST

START_TEST(test_node_interval)
{
    struct ledger_node n;
    memset(&n, 0, sizeof n);
    for (int s = 0; s < CB_NODE__COUNT; s++)
        n.state_at[s] = -1;
    int64_t a, b;
    n.state = CB_NODE_REQUESTED;
    ck_assert(!ctl_node_interval(&n, 0, 1000, &a, &b)); /* no time at all */
    n.state_at[CB_NODE_REQUESTED] = 100;
    ck_assert(ctl_node_interval(&n, 0, 1000, &a, &b));
    ck_assert_int_eq(a, 100);
    ck_assert_int_eq(b, 1000);
    n.state_at[CB_NODE_BOOTING] = 160; /* accepted: counted from here */
    n.state = CB_NODE_IDLE;
    n.state_at[CB_NODE_IDLE] = 400;
    ck_assert(ctl_node_interval(&n, 0, 1000, &a, &b));
    ck_assert_int_eq(a, 160);
    n.state = CB_NODE_GONE;
    n.state_at[CB_NODE_GONE] = 700;
    ck_assert(ctl_node_interval(&n, 200, 1000, &a, &b)); /* clipped to since */
    ck_assert_int_eq(a, 200);
    ck_assert_int_eq(b, 700);
    ck_assert(!ctl_node_interval(&n, 700, 1000, &a, &b)); /* gone at since: nothing */
    ck_assert(ctl_node_interval(&n, 0, 500, &a, &b));     /* until before gone */
    ck_assert_int_eq(b, 500);
    /* adopted: first recorded state */
    memset(&n, 0, sizeof n);
    for (int s = 0; s < CB_NODE__COUNT; s++)
        n.state_at[s] = -1;
    n.state = CB_NODE_DRAINING;
    n.state_at[CB_NODE_BUSY] = 300;
    n.state_at[CB_NODE_DRAINING] = 500;
    ck_assert(ctl_node_interval(&n, 0, 1000, &a, &b));
    ck_assert_int_eq(a, 300);
    ck_assert_int_eq(b, 1000);
}
END_TEST

/* ---- help and man page ---------------------------------------------------------- */

/* Every command and option that --help lists is documented in cloudburstctl(1). */
START_TEST(test_help_matches_man_page)
{
    const char *src = getenv("top_srcdir");
    char path[1024];
    snprintf(path, sizeof path, "%s/man/cloudburstctl.1", src && *src ? src : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char *man = NULL;
    size_t man_len = 0;
    FILE *m = open_memstream(&man, &man_len);
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, k, m);
    fclose(f);
    fclose(m);

    struct result r = run("--help");
    ck_assert_int_eq(r.rc, 0);
    char *cmds = strstr(r.out, "\nCommands:\n");
    ck_assert_ptr_nonnull(cmds);
    unsigned n_cmds = 0, n_opts = 0;
    char *save = NULL;
    for (char *line = strtok_r(cmds + 11, "\n", &save); line && line[0] == ' ';
         line = strtok_r(NULL, "\n", &save)) {
        char word[64] = "", want[128];
        if (strncmp(line, "      --", 8) == 0) {
            sscanf(line + 8, "%63[a-z-]", word);
            snprintf(want, sizeof want, "Fl \\-%s", word);
            n_opts++;
        } else {
            sscanf(line + 2, "%63[a-z]", word);
            snprintf(want, sizeof want, ".It Cm %s", word);
            n_cmds++;
        }
        ck_assert_msg(word[0] && strstr(man, want), "'%s' from --help is not in %s", want, path);
    }
    ck_assert_uint_eq(n_cmds, 10);
    ck_assert_uint_ge(n_opts, 10);
    /* the global options too */
    static const char *const global[] = {"config", "ledger", "json", "help", "version"};
    for (size_t i = 0; i < 5; i++) {
        char want[64];
        snprintf(want, sizeof want, "--%s", global[i]);
        ck_assert_ptr_nonnull(strstr(r.out, want));
        snprintf(want, sizeof want, ".It Fl \\-%s", global[i]);
        ck_assert_msg(strstr(man, want), "'%s' is not in %s", want, path);
    }
    result_free(&r);
    free(man);
}
END_TEST

/* ---- pool --------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_msg(f != NULL, "cannot write %s", p);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* The stand-in pool of the daemon tests (tests/e2e/fake_pool.py behind the
 * condor_* names, state in CB_FAKE_POOL) and a configuration with two clouds
 * whose eligibility differs; the ledger it names does not exist (pool reads
 * none). Returns the configuration's path in conf. */
static void fake_pool(char *pool, size_t pool_size, char *conf, size_t conf_size)
{
    const char *src = getenv("top_srcdir");
    char rel[1024], script[PATH_MAX], p[1100];
    snprintf(rel, sizeof rel, "%s/tests/e2e/fake_pool.py", src && *src ? src : ".");
    /* the symlinks must point at an absolute path */
    ck_assert_msg(realpath(rel, script) != NULL, "no %s", rel);
    snprintf(pool, pool_size, "%s/pool", tmpdir);
    ck_assert_int_eq(mkdir(pool, 0700), 0);
    static const char *const sub[] = {"slots", "startds"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", pool, sub[i]);
        ck_assert_int_eq(mkdir(p, 0700), 0);
    }
    static const char *const tools[] = {"condor_q", "condor_status", "condor_drain"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", pool, tools[i]);
        ck_assert_int_eq(symlink(script, p), 0);
    }
    ck_assert_int_eq(setenv("CB_FAKE_POOL", pool, 1), 0);

    /* 3 one-core jobs (both clouds), 2 four-core jobs (c1 only), one job
     * that wants no cloud node, one running. */
    char jobs[4096];
    size_t o = 0;
    o += (size_t)snprintf(jobs + o, sizeof jobs - o, "[");
    for (int i = 0; i < 3; i++)
        o += (size_t)snprintf(jobs + o, sizeof jobs - o,
                              "{\"ClusterId\": 1, \"ProcId\": %d, \"JobStatus\": 1, "
                              "\"RequestCpus\": 1, \"RequestMemory\": 2000, \"RequestDisk\": "
                              "1000000, \"QDate\": 1795319000, \"Owner\": \"cms\", "
                              "\"JobUniverse\": 5, \"WantCloudNode\": true},\n",
                              i);
    for (int i = 0; i < 2; i++)
        o += (size_t)snprintf(jobs + o, sizeof jobs - o,
                              "{\"ClusterId\": 2, \"ProcId\": %d, \"JobStatus\": 1, "
                              "\"RequestCpus\": 4, \"RequestMemory\": 8000, \"RequestDisk\": "
                              "2000000, \"QDate\": 1795319500, \"Owner\": \"atlas\", "
                              "\"JobUniverse\": 5, \"WantCloudNode\": true},\n",
                              i);
    snprintf(jobs + o, sizeof jobs - o,
             "{\"ClusterId\": 3, \"ProcId\": 0, \"JobStatus\": 1, \"RequestCpus\": 1, "
             "\"RequestMemory\": 1000, \"RequestDisk\": 1000, \"QDate\": 1795319000, \"Owner\": "
             "\"lhcb\", \"JobUniverse\": 5, \"WantCloudNode\": false},\n"
             "{\"ClusterId\": 4, \"ProcId\": 0, \"JobStatus\": 2, \"RequestCpus\": 1, "
             "\"RequestMemory\": 1000, \"RequestDisk\": 1000, \"QDate\": 1795319000, \"Owner\": "
             "\"cms\", \"JobUniverse\": 5, \"WantCloudNode\": true}]\n");
    write_file(pool, "jobs.json", jobs);

    /* vm1: c1, an unclaimed partitionable slot (idle); vm2: c2, half of it
     * claimed by a dynamic slot (busy); vm3: c1, its startd draining. */
    write_file(pool, "slots/vm1.json",
               "[{\"Name\": \"slot1@vm1.cloud.test\", \"Machine\": \"vm1.cloud.test\", "
               "\"SlotType\": \"Partitionable\", \"PartitionableSlot\": true, \"State\": "
               "\"Unclaimed\", \"Activity\": \"Idle\", \"Cpus\": 8, \"TotalSlotCpus\": 8, "
               "\"Memory\": 16000, \"TotalSlotMemory\": 16000, \"Disk\": 50000000, "
               "\"TotalSlotDisk\": 50000000, \"IsCloudNode\": true, \"CloudName\": \"c1\", "
               "\"CloudburstNodeId\": \"b1-0\", \"CloudInstanceId\": \"i-0a1\", "
               "\"LastHeardFrom\": 1795327100, \"DaemonStartTime\": 1795320300, "
               "\"EnteredCurrentActivity\": 1795320400}]\n");
    write_file(pool, "slots/vm2.json",
               "[{\"Name\": \"slot1@vm2.cloud.test\", \"Machine\": \"vm2.cloud.test\", "
               "\"SlotType\": \"Partitionable\", \"PartitionableSlot\": true, \"State\": "
               "\"Unclaimed\", \"Activity\": \"Idle\", \"Cpus\": 2, \"TotalSlotCpus\": 4, "
               "\"Memory\": 6000, \"TotalSlotMemory\": 8000, \"Disk\": 20000000, "
               "\"TotalSlotDisk\": 30000000, \"ChildState\": [\"Claimed\"], \"ChildCpus\": [2], "
               "\"IsCloudNode\": true, \"CloudName\": \"c2\", \"CloudburstNodeId\": \"b2-0\", "
               "\"CloudInstanceId\": \"5f1e-aa\", \"LastHeardFrom\": 1795327100, "
               "\"DaemonStartTime\": 1795323900, \"EnteredCurrentActivity\": 1795324000},\n"
               " {\"Name\": \"slot1_1@vm2.cloud.test\", \"Machine\": \"vm2.cloud.test\", "
               "\"SlotType\": \"Dynamic\", \"DynamicSlot\": true, \"State\": \"Claimed\", "
               "\"Activity\": \"Busy\", \"Cpus\": 2, \"TotalSlotCpus\": 4, \"Memory\": 2000, "
               "\"TotalSlotMemory\": 8000, \"Disk\": 10000000, \"TotalSlotDisk\": 30000000, "
               "\"IsCloudNode\": true, \"CloudName\": \"c2\", \"CloudburstNodeId\": \"b2-0\", "
               "\"CloudInstanceId\": \"5f1e-aa\", \"LastHeardFrom\": 1795327100, "
               "\"DaemonStartTime\": 1795323900, \"EnteredCurrentActivity\": 1795325000, "
               "\"JobStart\": 1795325000}]\n");
    write_file(pool, "slots/vm3.json",
               "[{\"Name\": \"slot1@vm3.cloud.test\", \"Machine\": \"vm3.cloud.test\", "
               "\"SlotType\": \"Partitionable\", \"PartitionableSlot\": true, \"State\": "
               "\"Unclaimed\", \"Activity\": \"Idle\", \"Cpus\": 8, \"TotalSlotCpus\": 8, "
               "\"Memory\": 16000, \"TotalSlotMemory\": 16000, \"Disk\": 50000000, "
               "\"TotalSlotDisk\": 50000000, \"IsCloudNode\": true, \"CloudName\": \"c1\", "
               "\"CloudburstNodeId\": \"b3-0\", \"CloudInstanceId\": \"i-0c3\", "
               "\"LastHeardFrom\": 1795327100, \"DaemonStartTime\": 1795320300, "
               "\"EnteredCurrentActivity\": 1795320400}]\n");
    write_file(pool, "startds/vm3.json",
               "{\"Name\": \"vm3.cloud.test\", \"Machine\": \"vm3.cloud.test\", \"Draining\": "
               "true, \"DrainReason\": \"cloudburst scale-in\", \"DaemonStartTime\": 1795320300, "
               "\"IsCloudNode\": true}\n");

    snprintf(conf, conf_size, "%s/pool.conf", tmpdir);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "pool = { name = \"t2\"; central_manager = \"cm.example.org\";\n"
            "  condor_q = \"%s/condor_q\"; condor_status = \"%s/condor_status\";\n"
            "  condor_drain = \"%s/condor_drain\"; query_timeout = 30; };\n"
            "bootstrap = { ssh = { key_file = \"/etc/cloudburst/id_ed25519\"; };\n"
            "  condor = { token_file = \"/etc/cloudburst/pool.token\"; }; };\n"
            "clouds = (\n"
            " { name = \"c1\"; provider = \"ec2\"; image = \"ami-1\";\n"
            "   flavors = ( { name = \"c5.2xlarge\"; cpus = 8; memory_mb = 16000;"
            " cost_per_hour = 0.34; } ); ec2 = { }; },\n"
            " { name = \"c2\"; provider = \"openstack\"; image = \"debian-12\";\n"
            "   eligibility = \"WantCloudNode =?= True && RequestCpus <= 2\";\n"
            "   flavors = ( { name = \"m1.large\"; cpus = 4; memory_mb = 8000;"
            " cost_per_hour = 0.1; } ); openstack = { }; } );\n"
            "ledger = { path = \"%s/no-such-dir/ledger.db\"; };\n",
            pool, pool, pool, tmpdir);
    ck_assert_int_eq(fclose(f), 0);
}

static json_object *find_by(json_object *arr, const char *key, int64_t value)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        if (num(o, key) == value)
            return o;
    }
    ck_abort_msg("no element with %s = %lld", key, (long long)value);
    return NULL;
}

static json_object *find_str(json_object *arr, const char *key, const char *value)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        if (strcmp(str(o, key), value) == 0)
            return o;
    }
    ck_abort_msg("no element with %s = %s", key, value);
    return NULL;
}

START_TEST(test_pool_against_fake_pool)
{
    char pool[700], conf[700], cmd[1600];
    fake_pool(pool, sizeof pool, conf, sizeof conf);
    snprintf(cmd, sizeof cmd, "--config %s pool --json", conf);
    json_object *doc = run_json(cmd);
    json_object *d = get(doc, "demand");
    ck_assert_int_eq(num(d, "idle_jobs"), 5);
    ck_assert(!json_object_get_boolean(get(d, "partial")));
    json_object *shapes = get(d, "shapes");
    ck_assert_uint_eq(json_object_array_length(shapes), 2);
    json_object *one = find_by(shapes, "cpus", 1), *four = find_by(shapes, "cpus", 4);
    ck_assert_int_eq(num(one, "jobs"), 3);
    ck_assert_int_eq(num(one, "memory_mb"), 2000);
    ck_assert_int_eq(num(one, "disk_kb"), 1000000);
    ck_assert_int_eq(num(one, "oldest_qdate"), 1795319000);
    json_object *cl = get(one, "clouds");
    ck_assert_uint_eq(json_object_array_length(cl), 2);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(cl, 0)), "c1");
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(cl, 1)), "c2");
    ck_assert_int_eq(num(four, "jobs"), 2);
    ck_assert_int_eq(num(four, "memory_mb"), 8000);
    cl = get(four, "clouds");
    ck_assert_uint_eq(json_object_array_length(cl), 1);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(cl, 0)), "c1");
    json_object *by = get(d, "by_cloud");
    ck_assert_uint_eq(json_object_array_length(by), 2);
    json_object *c1 = find_str(by, "cloud", "c1"), *c2 = find_str(by, "cloud", "c2");
    ck_assert_int_eq(num(c1, "jobs"), 5);
    ck_assert_int_eq(num(c1, "cpus"), 3 * 1 + 2 * 4);
    ck_assert_int_eq(num(c1, "memory_mb"), 3 * 2000 + 2 * 8000);
    ck_assert_int_eq(num(c2, "jobs"), 3);
    ck_assert_int_eq(num(c2, "cpus"), 3);
    ck_assert_int_eq(num(c2, "memory_mb"), 3 * 2000);

    json_object *s = get(doc, "supply");
    ck_assert(!json_object_get_boolean(get(s, "partial")));
    json_object *nodes = get(s, "nodes");
    ck_assert_uint_eq(json_object_array_length(nodes), 3);
    json_object *vm1 = find_str(nodes, "machine", "vm1.cloud.test");
    ck_assert_str_eq(str(vm1, "state"), "idle");
    ck_assert_str_eq(str(vm1, "cloud"), "c1");
    ck_assert_str_eq(str(vm1, "node_id"), "b1-0");
    ck_assert_str_eq(str(vm1, "instance_id"), "i-0a1");
    ck_assert_int_eq(num(vm1, "cpus"), 8);
    ck_assert_int_eq(num(vm1, "idle_cpus"), 8);
    ck_assert_int_eq(num(vm1, "claimed_slots"), 0);
    ck_assert(!json_object_get_boolean(get(vm1, "busy")));
    ck_assert(!json_object_get_boolean(get(vm1, "draining")));
    json_object *vm2 = find_str(nodes, "machine", "vm2.cloud.test");
    ck_assert_str_eq(str(vm2, "state"), "busy");
    ck_assert_str_eq(str(vm2, "cloud"), "c2");
    ck_assert_str_eq(str(vm2, "node_id"), "b2-0");
    ck_assert_int_eq(num(vm2, "cpus"), 4);
    ck_assert_int_eq(num(vm2, "idle_cpus"), 2);
    ck_assert(json_object_get_boolean(get(vm2, "busy")));
    json_object *vm3 = find_str(nodes, "machine", "vm3.cloud.test");
    ck_assert_str_eq(str(vm3, "state"), "draining");
    ck_assert(json_object_get_boolean(get(vm3, "draining")));
    ck_assert_str_eq(str(vm3, "node_id"), "b3-0");
    json_object_put(doc);

    /* The table says the same. */
    snprintf(cmd, sizeof cmd, "--config %s pool", conf);
    struct result r = run(cmd);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_uint_eq(r.err_len, 0);
    static const char *const words[] = {"vm1.cloud.test", "vm2.cloud.test", "vm3.cloud.test",
                                        "i-0a1",          "5f1e-aa",        "draining",
                                        "busy",           "idle",           "c1",
                                        "c2"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        ck_assert_msg(strstr(r.out, words[i]), "'%s' not in:\n%s", words[i], r.out);
    result_free(&r);

    /* It only asked: no condor_drain, nothing but queries in the call log. */
    char log[800];
    snprintf(log, sizeof log, "%s/calls.log", pool);
    FILE *f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    char line[8192];
    unsigned calls = 0;
    while (fgets(line, sizeof line, f)) {
        calls++;
        ck_assert_msg(strncmp(line, "condor_q |", 10) == 0 ||
                          strncmp(line, "condor_status |", 15) == 0,
                      "unexpected call: %s", line);
    }
    fclose(f);
    ck_assert_uint_ge(calls, 4);

    /* The pool down: exit 1, the adapter's error, nothing on stdout. */
    write_file(pool, "down", "");
    snprintf(cmd, sizeof cmd, "--config %s pool", conf);
    r = run(cmd);
    ck_assert_int_eq(r.rc, CTL_EXIT_ERROR);
    ck_assert_uint_eq(r.out_len, 0);
    ck_assert_msg(strncmp(r.err, "cloudburstctl: pool: ", 21) == 0, "%s", r.err);
    result_free(&r);

    /* A configuration error names file and line. */
    write_file(tmpdir, "bad.conf", "pool = {\n  name = 5;\n};\n");
    snprintf(cmd, sizeof cmd, "--config %s/bad.conf pool", tmpdir);
    r = run(cmd);
    ck_assert_int_eq(r.rc, CTL_EXIT_ERROR);
    char want[900];
    snprintf(want, sizeof want, "cloudburstctl: pool: %s/bad.conf:2", tmpdir);
    ck_assert_msg(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
    result_free(&r);
    unsetenv("CB_FAKE_POOL");
}
END_TEST

static Suite *ctl_suite(void)
{
    Suite *s = suite_create("ctl");
    TCase *tc = tcase_create("ctl");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cases_from_data);
    tcase_add_test(tc, test_status_json);
    tcase_add_test(tc, test_nodes_json);
    tcase_add_test(tc, test_events_json);
    tcase_add_test(tc, test_parse_time);
    tcase_add_test(tc, test_table_alignment_counts_characters);
    tcase_add_test(tc, test_config_gives_ledger_path);
    tcase_add_test(tc, test_binary_runs);
    tcase_add_test(tc, test_reads_while_daemon_writes);
    tcase_add_test(tc, test_newer_ledger_unavailable);
    tcase_add_test(tc, test_empty_ledger);
    tcase_add_test(tc, test_json_escaping);
    tcase_add_test(tc, test_explain_json);
    tcase_add_test(tc, test_explain_without_cycle);
    tcase_add_test(tc, test_explain_dry_run_cycle);
    tcase_add_test(tc, test_pause_resume_requests);
    tcase_add_test(tc, test_drain_terminate_requests);
    tcase_add_test(tc, test_request_while_daemon_runs);
    tcase_add_test(tc, test_accounting_json);
    tcase_add_test(tc, test_accounting_by_day);
    tcase_add_test(tc, test_node_interval);
    tcase_add_test(tc, test_accounting_empty_and_unknown_cpus);
    tcase_add_test(tc, test_help_matches_man_page);
    tcase_add_test(tc, test_pool_against_fake_pool);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ctl_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
