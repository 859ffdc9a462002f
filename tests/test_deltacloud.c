/* test_deltacloud: the Deltacloud driver and its XML parsers.
 *
 * Parser cases read the recorded mock-driver replies in
 * tests/fixtures/deltacloud/. Driver cases load providers/deltacloud through
 * cb_provider_load from $top_builddir/providers and talk to
 * tests/fake/fake_deltacloud.py on 127.0.0.1, a fresh fake per case; the
 * fake's counters (instances, creates, posts, requests) are what is asserted.
 */
#include "cb_http.h"
#include "cb_text.h"
#include "dc_parse.h"
#include "provider.h"
#include "provider_loader.h"

#include <check.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD "mockpassword"

static char *read_fixture(const char *rel, size_t *len)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/deltacloud/%s", top ? top : ".", rel);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* ---- parsers ---------------------------------------------------------------- */

START_TEST(entry_point_links_and_features)
{
    size_t len;
    char *body = read_fixture("api.xml", &len);
    struct dc_api api;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_int_eq(dc_parse_api(body, len, &api, &err), 0);
    ck_assert_str_eq(api.driver, "mock");
    ck_assert_str_eq(api.version, "1.1.1");
    ck_assert(api.has_instances);
    ck_assert_str_eq(api.instances_href, "http://localhost:3001/api/instances");
    ck_assert(api.feature_user_name);
    ck_assert(api.feature_authentication_key);
    ck_assert(!api.feature_user_data);
    free(body);
    body = read_fixture("instances.xml", &len);
    ck_assert_int_eq(dc_parse_api(body, len, &api, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "<api>"));
    ck_assert_str_eq(api.driver, "");
    free(body);
}
END_TEST

START_TEST(instances_collection_and_single)
{
    size_t len;
    struct dc_instance_list l = { 0 };
    struct cb_err err = CB_ERR_INIT;
    char *body = read_fixture("instances.xml", &len);
    ck_assert_int_eq(dc_parse_instances(body, len, &l, &err), 0);
    ck_assert_uint_eq(l.n, 14);
    ck_assert_str_eq(l.items[0].id, "inst6");
    ck_assert_str_eq(l.items[0].state, "STOPPED");
    ck_assert_uint_eq(l.items[0].actions, DC_ACTION_START | DC_ACTION_DESTROY);
    ck_assert_str_eq(l.items[1].realm, "eu");
    ck_assert_str_eq(l.items[3].name, "MockUserInstance");
    ck_assert_str_eq(l.items[5].name, "Mock Instance With Profile Change");
    free(body);

    body = read_fixture("instance-create.xml", &len);
    ck_assert_int_eq(dc_parse_instances(body, len, &l, &err), 0);
    ck_assert_uint_eq(l.n, 15);
    struct dc_instance *d = &l.items[14];
    ck_assert_str_eq(d->id, "inst12");
    ck_assert_str_eq(d->name, "i-1362560177");
    ck_assert_str_eq(d->state, "RUNNING");
    ck_assert_str_eq(d->image, "img1");
    ck_assert_str_eq(d->hwp, "m1-small");
    ck_assert_str_eq(d->public_addr, "img1.inst12.public.com");
    ck_assert_str_eq(d->private_addr, "img1.inst12.private.com");
    ck_assert_uint_eq(d->actions, DC_ACTION_REBOOT | DC_ACTION_STOP);
    free(body);
    body = read_fixture("instance-stop.xml", &len);
    ck_assert_int_eq(dc_parse_instances(body, len, &l, &err), 0);
    ck_assert_str_eq(l.items[15].state, "STOPPED");
    ck_assert(l.items[15].actions & DC_ACTION_DESTROY);
    free(body);
    body = read_fixture("instance-get.xml", &len);
    ck_assert_int_eq(dc_parse_instances(body, len, &l, &err), 0);
    ck_assert_uint_eq(l.n, 17);
    free(body);
    /* The recorded instances are not ours: no pool tag in their names. */
    struct cb_instance inst;
    for (size_t i = 0; i < l.n; i++)
        ck_assert_int_eq(dc_to_instance(&l.items[i], "pool", &inst), -1);
    dc_instance_list_free(&l);
}
END_TEST

START_TEST(malformed_and_hostile_xml)
{
    struct dc_instance_list l = { 0 };
    struct cb_err err = CB_ERR_INIT;
    const char *cut = "<?xml version='1.0'?><instances><instance id='a'><name>x</name>";
    ck_assert_int_eq(dc_parse_instances(cut, strlen(cut), &l, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "malformed XML at line 1"));
    cb_err_clear(&err);
    const char *noid = "<instances><instance><name>x</name><state>RUNNING</state></instance></instances>";
    ck_assert_int_eq(dc_parse_instances(noid, strlen(noid), &l, &err), -1);
    ck_assert_str_eq(err.origin, "deltacloud:instances/instance[0]@id");
    cb_err_clear(&err);
    const char *nostate = "<instances><instance id='a'><name>x</name></instance>"
                          "<instance id='b'/></instances>";
    ck_assert_int_eq(dc_parse_instances(nostate, strlen(nostate), &l, &err), -1);
    ck_assert_str_eq(err.origin, "deltacloud:instances/instance[0]/state");
    cb_err_clear(&err);
    ck_assert_uint_eq(l.n, 0);
    /* External entities are neither fetched nor substituted. */
    const char *xxe = "<?xml version='1.0'?><!DOCTYPE i [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
                      "<instances><instance id='a'><name>p--b-0&e;</name><state>RUNNING</state>"
                      "</instance></instances>";
    if (dc_parse_instances(xxe, strlen(xxe), &l, &err) == 0) {
        ck_assert_uint_eq(l.n, 1);
        ck_assert_ptr_null(strstr(l.items[0].name, "root:"));
    }
    cb_err_clear(&err);
    const char *wrong = "<images/>";
    l.n = 0;
    ck_assert_int_eq(dc_parse_instances(wrong, strlen(wrong), &l, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(dc_parse_instances("", 0, &l, &err), -1);
    dc_instance_list_free(&l);
}
END_TEST

START_TEST(faults_names_and_states)
{
    size_t len;
    char msg[200];
    char *body = read_fixture("error-404.xml", &len);
    ck_assert_int_eq(dc_parse_fault(body, len, msg, sizeof msg), 0);
    ck_assert_str_eq(msg, "Not Found");
    free(body);
    body = read_fixture("error-401.txt", &len);
    ck_assert_int_eq(dc_parse_fault(body, len, msg, sizeof msg), -1);
    ck_assert_str_eq(msg, "Authentication failed");
    free(body);
    body = read_fixture("error-404-sinatra.html", &len);
    ck_assert_int_eq(dc_parse_fault(body, len, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "<!DOCTYPE html>"));
    ck_assert_ptr_null(strchr(msg, '\n'));
    free(body);

    char batch[64], node[64];
    unsigned idx;
    ck_assert_int_eq(dc_name_split("t2--b-0001-12", "t2", batch, sizeof batch, node, sizeof node, &idx), 0);
    ck_assert_str_eq(batch, "b-0001");
    ck_assert_str_eq(node, "b-0001-12");
    ck_assert_uint_eq(idx, 12);
    ck_assert_int_eq(dc_name_split("t2--b-01", "t2", batch, sizeof batch, node, sizeof node, &idx), -1);
    ck_assert_int_eq(dc_name_split("t2--b", "t2", batch, sizeof batch, node, sizeof node, &idx), -1);
    ck_assert_int_eq(dc_name_split("t2--b-x", "t2", batch, sizeof batch, node, sizeof node, &idx), -1);
    ck_assert_int_eq(dc_name_split("t3--b-1", "t2", batch, sizeof batch, node, sizeof node, &idx), -1);
    ck_assert_int_eq(dc_name_split("t2---1", "t2", batch, sizeof batch, node, sizeof node, &idx), -1);
    ck_assert_int_eq(dc_name_split("t2--a b-1", "t2", batch, sizeof batch, node, sizeof node, &idx), -1);
    ck_assert_int_eq(dc_map_state("PENDING"), CB_INSTANCE_PENDING);
    ck_assert_int_eq(dc_map_state("RUNNING"), CB_INSTANCE_RUNNING);
    ck_assert_int_eq(dc_map_state("STOPPED"), CB_INSTANCE_STOPPING);
    ck_assert_int_eq(dc_map_state("FINISH"), CB_INSTANCE_TERMINATED);
    ck_assert_int_eq(dc_map_state("AVAILABLE"), CB_INSTANCE_UNKNOWN);
    ck_assert_int_eq(dc_map_state(NULL), CB_INSTANCE_UNKNOWN);
}
END_TEST

/* ---- fake and driver ---------------------------------------------------------- */

static struct {
    pid_t pid;
    int port;
    char dir[256];
} fk;
static struct cb_provider_module mod;
static char logbuf[1 << 16];
static size_t loglen;

static void test_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    (void)payload;
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(logbuf + loglen, sizeof logbuf - loglen, fmt, ap);
    va_end(ap);
    if (n > 0 && loglen + (size_t)n + 1 < sizeof logbuf) {
        loglen += (size_t)n;
        logbuf[loglen++] = '\n';
        logbuf[loglen] = '\0';
    }
}

static void fake_start(void)
{
    const char *top = getenv("top_srcdir");
    const char *py = getenv("PYTHON3");
    char script[4096], portfile[512];
    snprintf(fk.dir, sizeof fk.dir, "/tmp/cb-test-deltacloud-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fk.dir));
    snprintf(script, sizeof script, "%s/tests/fake/fake_deltacloud.py", top ? top : ".");
    snprintf(portfile, sizeof portfile, "%s/port", fk.dir);
    fk.pid = fork();
    ck_assert_int_ge(fk.pid, 0);
    if (fk.pid == 0) {
        /* A failing case exits without teardown: the fake must not outlive it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        const char *argv[] = { py && py[0] && strcmp(py, "no") != 0 ? py : "python3", script,
                               "--port-file", portfile, NULL };
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 1500; i++) { /* 30 s: python may start slowly on a loaded host */
        FILE *f = fopen(portfile, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &fk.port);
            fclose(f);
            if (ok == 1)
                return;
        }
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    ck_abort_msg("fake_deltacloud did not start");
}

static void fake_stop(void)
{
    char path[600];
    if (fk.pid > 0) {
        kill(fk.pid, SIGTERM);
        waitpid(fk.pid, NULL, 0);
        fk.pid = 0;
    }
    snprintf(path, sizeof path, "%s/port", fk.dir);
    unlink(path);
    rmdir(fk.dir);
}

static json_object *ctl(const char *method, const char *path, const char *body)
{
    struct cb_http *h;
    struct cb_err err = CB_ERR_INIT;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", fk.port, path);
    ck_assert_int_eq(cb_http_new(&h, &err), 0);
    struct cb_http_request req = { .method = method, .url = url, .body = body,
                                   .body_len = body ? strlen(body) : 0, .timeout_ms = 10000 };
    struct cb_http_response resp;
    ck_assert_msg(cb_http_perform(h, "fake", &req, &resp, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(resp.status, 200);
    json_object *doc = json_tokener_parse(resp.body);
    ck_assert_ptr_nonnull(doc);
    cb_http_response_free(&resp);
    cb_http_free(h);
    return doc;
}

static long long state_num(const char *key)
{
    json_object *doc = ctl("GET", "/_fake/state", NULL), *v;
    ck_assert(json_object_object_get_ex(doc, key, &v));
    long long n = json_object_get_int64(v);
    json_object_put(doc);
    return n;
}

static long long request_count(const char *key)
{
    json_object *doc = ctl("GET", "/_fake/state", NULL), *reqs, *v;
    ck_assert(json_object_object_get_ex(doc, "requests", &reqs));
    long long n = json_object_object_get_ex(reqs, key, &v) ? json_object_get_int64(v) : 0;
    json_object_put(doc);
    return n;
}

static void fault(const char *json)
{
    json_object_put(ctl("POST", "/_fake/faults", json));
}

static void config(const char *json)
{
    json_object_put(ctl("POST", "/_fake/config", json));
}

#define MAX_SETTINGS 16
static struct cb_setting items[MAX_SETTINGS];
static struct cb_settings settings;
static char api_url[128];
static const char *const hwp_map[] = { "m1.small=m1-large", "m1.tiny=m1-small" };

static void set(const char *name, enum cb_setting_type type, const char *str, long long num)
{
    struct cb_setting *s = NULL;
    for (size_t i = 0; i < settings.n; i++)
        if (strcmp(items[i].name, name) == 0)
            s = &items[i];
    if (s == NULL) {
        ck_assert_uint_lt(settings.n, MAX_SETTINGS);
        s = &items[settings.n++];
        memset(s, 0, sizeof *s);
        s->line = 20 + (int)settings.n;
    }
    s->name = name;
    s->type = type;
    s->str = str;
    s->num = num;
    if (type == CB_SETTING_SECRET_FILE) {
        s->str = "/etc/cloudburst/dc-password";
        s->secret = str;
        s->secret_len = str ? strlen(str) : 0;
    }
}

static void setup(void)
{
    struct cb_err err = CB_ERR_INIT;
    const char *top = getenv("top_builddir");
    char dir[4096];
    loglen = 0;
    logbuf[0] = '\0';
    fake_start();
    settings.items = items;
    settings.n = 0;
    settings.file = "/etc/cloudburst/cloudburst.conf";
    settings.path = "clouds.[1].deltacloud";
    snprintf(api_url, sizeof api_url, "http://127.0.0.1:%d/api/", fk.port);
    set("api_url", CB_SETTING_STRING, api_url, 0);
    set("username", CB_SETTING_STRING, "mockuser", 0);
    set("password_file", CB_SETTING_SECRET_FILE, PASSWORD, 0);
    set("hardware_profiles", CB_SETTING_STRING_LIST, NULL, 0);
    items[settings.n - 1].list = hwp_map;
    items[settings.n - 1].list_len = 2;
    set("stop_polls", CB_SETTING_INT, NULL, 4);
    snprintf(dir, sizeof dir, "%s/providers", top ? top : ".");
    ck_assert_msg(cb_provider_load(&mod, dir, "deltacloud", &err) == 0, "%s: %s", err.origin, err.msg);
}

static void teardown(void)
{
    cb_provider_unload(&mod);
    fake_stop();
}

static void *driver(const char *pool, unsigned call_ms, struct cb_err *err)
{
    struct cb_provider_init args = {
        .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "dc-test", .pool_name = pool,
        .settings = &settings, .connect_timeout_ms = 2000, .call_timeout_ms = call_ms,
        .log = test_log,
    };
    void *st = NULL;
    return mod.ops->init(&st, &args, err) == 0 ? st : NULL;
}

static struct cb_boot_spec spec(const char *batch, unsigned count)
{
    struct cb_boot_spec s = { .batch_id = batch, .count = count, .flavor = "m1.small",
                              .image = "img2", .user_data = "#!/bin/sh\necho hi\n",
                              .user_data_len = 18 };
    return s;
}

START_TEST(loads_and_checks_settings)
{
    struct cb_err err = CB_ERR_INIT;
    ck_assert_str_eq(mod.ops->name, "deltacloud");
    ck_assert(!(mod.ops->caps & CB_PROVIDER_CAP_BATCH_BOOT));
    bool have_pw = false;
    for (const struct cb_setting_spec *s = mod.ops->settings; s->name; s++)
        if (strcmp(s->name, "password_file") == 0)
            have_pw = s->type == CB_SETTING_SECRET_FILE;
    ck_assert(have_pw);
    set("api_url", CB_SETTING_STRING, "localhost:3001/api", 0);
    ck_assert_ptr_null(driver("t2pool", 5000, &err));
    ck_assert_str_eq(err.origin, "/etc/cloudburst/cloudburst.conf:21 (api_url)");
    cb_err_clear(&err);
    set("api_url", CB_SETTING_STRING, api_url, 0);
    static const char *const bad_map[] = { "m1.small" };
    items[3].list = bad_map;
    items[3].list_len = 1;
    ck_assert_ptr_null(driver("t2pool", 5000, &err));
    ck_assert_ptr_nonnull(strstr(err.origin, "hardware_profiles"));
}
END_TEST

START_TEST(boot_list_terminate_lifecycle)
{
    struct cb_err err = CB_ERR_INIT;
    set("realm", CB_SETTING_STRING, "eu", 0);
    set("keyname", CB_SETTING_STRING, "cloudburst", 0);
    set("driver", CB_SETTING_STRING, "mock", 0);
    void *st = driver("t2pool", 20000, &err);
    ck_assert_ptr_nonnull(st);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("b-7", 3);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s: %s", err.origin, err.msg);
    ck_assert_uint_eq(out.n, 3);
    for (unsigned i = 0; i < 3; i++) {
        char node[32];
        snprintf(node, sizeof node, "b-7-%u", i);
        ck_assert_str_eq(out.items[i].node_id, node);
        ck_assert_str_eq(out.items[i].batch_id, "b-7");
        ck_assert_str_eq(out.items[i].flavor, "m1-large");
        ck_assert_int_eq(strncmp(out.items[i].private_ip, "127.", 4), 0);
    }
    ck_assert_int_eq(state_num("instances"), 3);
    json_object *doc = ctl("GET", "/_fake/state", NULL), *lc, *v;
    ck_assert(json_object_object_get_ex(doc, "last_create", &lc));
    ck_assert(json_object_object_get_ex(lc, "name", &v));
    ck_assert_str_eq(json_object_get_string(v), "t2pool--b-7-2");
    ck_assert(json_object_object_get_ex(lc, "hwp_id", &v));
    ck_assert_str_eq(json_object_get_string(v), "m1-large");
    ck_assert(json_object_object_get_ex(lc, "realm_id", &v));
    ck_assert_str_eq(json_object_get_string(v), "eu");
    ck_assert(json_object_object_get_ex(lc, "keyname", &v));
    ck_assert_str_eq(json_object_get_string(v), "cloudburst");
    ck_assert(json_object_object_get_ex(lc, "user_data", &v));
    ck_assert_str_eq(json_object_get_string(v), "IyEvYmluL3NoCmVjaG8gaGkK");
    json_object_put(doc);

    /* Another pool's instances are not listed. */
    void *other = driver("otherpool", 20000, &err);
    struct cb_instance_list oo = { 0 };
    s = spec("b-7", 1);
    ck_assert_int_eq(mod.ops->boot(other, &s, &oo, &err), 0);
    struct cb_instance_list all = { 0 };
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(all.n, 3);
    cb_instance_list_free(&all);

    const char *ids[3] = { out.items[0].id, out.items[1].id, "inst99999" };
    bool failed[3] = { true, true, true };
    ck_assert_msg(mod.ops->terminate(st, ids, 3, failed, &err) == 0, "%s", err.msg);
    ck_assert(!failed[0] && !failed[1] && !failed[2]);
    ck_assert_int_eq(state_num("instances"), 2);
    ck_assert_int_eq(request_count("POST /api/instances/{id}/stop"), 2);
    ck_assert_int_eq(request_count("DELETE /api/instances/{id}"), 2);
    ck_assert_int_eq(request_count("GET /api"), 2); /* once per driver state */
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(all.n, 1);
    ck_assert_str_eq(all.items[0].node_id, "b-7-2");
    ck_assert_ptr_null(strstr(logbuf, PASSWORD));
    cb_instance_list_free(&all);
    cb_instance_list_free(&oo);
    cb_instance_list_free(&out);
    mod.ops->fini(other);
    mod.ops->fini(st);
}
END_TEST

START_TEST(boot_never_repeats_an_index)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver("t2pool", 20000, &err);
    struct cb_instance_list a = { 0 }, b = { 0 };
    struct cb_boot_spec s = spec("rep", 2);
    ck_assert_int_eq(mod.ops->boot(st, &s, &a, &err), 0);
    ck_assert_int_eq(mod.ops->boot(st, &s, &b, &err), 0);
    ck_assert_uint_eq(b.n, 2);
    ck_assert_int_eq(state_num("posts"), 2);
    /* A larger repeat completes the batch without repeating an index. */
    s = spec("rep", 4);
    cb_instance_list_free(&b);
    ck_assert_int_eq(mod.ops->boot(st, &s, &b, &err), 0);
    ck_assert_uint_eq(b.n, 4);
    ck_assert_int_eq(state_num("posts"), 4);
    ck_assert_int_eq(state_num("instances"), 4);
    cb_instance_list_free(&a);
    cb_instance_list_free(&b);
    mod.ops->fini(st);
}
END_TEST

START_TEST(lost_create_reply)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver("t2pool", 20000, &err);
    fault("[{\"method\": \"POST\", \"path_re\": \"^/api/instances$\", \"when\": \"after\", \"drop\": true}]");
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("lost", 2);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_int_eq(state_num("posts"), 2);
    ck_assert_int_eq(state_num("instances"), 2);
    ck_assert_ptr_nonnull(strstr(logbuf, "was lost"));

    /* Lost and the check fails too: an error now, no second instance later. */
    fault("[{\"method\": \"POST\", \"path_re\": \"^/api/instances$\", \"when\": \"after\", \"drop\": true},"
          " {\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"skip\": 1, \"status\": 503,"
          "  \"body\": \"busy\"}]");
    cb_instance_list_free(&out);
    s = spec("lost2", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert(cb_err_is_retryable(err.code));
    cb_err_clear(&err);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(state_num("posts"), 3);
    ck_assert_int_eq(state_num("instances"), 3);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(errors_classified)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };
    set("password_file", CB_SETTING_SECRET_FILE, "wrong", 0);
    void *st = driver("t2pool", 5000, &err);
    ck_assert_int_eq(mod.ops->list(st, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "Authentication failed"));
    ck_assert_ptr_null(strstr(err.msg, "wrong"));
    mod.ops->fini(st);
    set("password_file", CB_SETTING_SECRET_FILE, PASSWORD, 0);

    static const struct {
        const char *fault;
        enum cb_errcode code;
    } cases[] = {
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 500, "
          "\"fixture\": \"error-404.xml\"}]", CB_ERR_TRANSIENT },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 200, "
          "\"body\": \"<instances><instance id='x'><name>t2pool--a-0</name>\"}]", CB_ERR_INVALID },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 200, "
          "\"fixture\": \"error-404-sinatra.html\"}]", CB_ERR_INVALID },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api$\", \"status\": 404, "
          "\"fixture\": \"error-404-sinatra.html\"}]", CB_ERR_NOT_FOUND },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"delay\": 3, \"status\": 200, "
          "\"body\": \"<instances/>\"}]", CB_ERR_TIMEOUT },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"drop\": true, \"times\": 2}]",
          CB_ERR_TRANSIENT },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 429, \"body\": \"slow down\"}]",
          CB_ERR_THROTTLED },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 409, "
          "\"fixture\": \"error-404.xml\"}]", CB_ERR_TRANSIENT },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 403, "
          "\"fixture\": \"error-401.txt\"}]", CB_ERR_AUTH },
        { "[{\"method\": \"GET\", \"path_re\": \"^/api/instances$\", \"status\": 400, "
          "\"fixture\": \"error-404.xml\"}]", CB_ERR_PERMANENT },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cb_err_clear(&err);
        json_object_put(ctl("POST", "/_fake/reset", "{}"));
        fault(cases[i].fault);
        st = driver("t2pool", 1500, &err);
        ck_assert_msg(mod.ops->list(st, &out, &err) == -1, "case %zu: list succeeded", i);
        ck_assert_msg(err.code == cases[i].code, "case %zu: got %s (%s: %s)", i,
                      cb_errcode_name(err.code), err.origin, err.msg);
        ck_assert_uint_eq(out.n, 0);
        mod.ops->fini(st);
    }

    cb_err_clear(&err);
    st = driver("t2pool", 5000, &err);
    struct cb_boot_spec sp = spec("spot", 1);
    sp.spot = true;
    ck_assert_int_eq(mod.ops->boot(st, &sp, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    mod.ops->fini(st);

    /* Without the user_name feature instances could not carry their tags. */
    cb_err_clear(&err);
    json_object_put(ctl("POST", "/_fake/reset", "{}"));
    config("{\"user_name_feature\": false}");
    st = driver("t2pool", 5000, &err);
    struct cb_boot_spec s = spec("nf", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "user_name"));
    ck_assert_int_eq(state_num("posts"), 0);
    mod.ops->fini(st);
}
END_TEST

START_TEST(quota_and_partial_batches)
{
    struct cb_err err = CB_ERR_INIT;
    config("{\"quota\": 2}");
    void *st = driver("t2pool", 20000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("qa", 3);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 2); /* fewer than asked: what the quota allowed */
    ck_assert_ptr_nonnull(strstr(logbuf, "started 2 of 3"));
    s = spec("qb", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "InstanceLimitExceeded"));
    ck_assert_uint_eq(out.n, 2);
    cb_instance_list_free(&out);
    mod.ops->fini(st);

    /* A call that runs out of time returns what it started. */
    cb_err_clear(&err);
    json_object_put(ctl("POST", "/_fake/reset", "{}"));
    config("{\"latency\": 0.3}");
    st = driver("t2pool", 1600, &err);
    s = spec("slow", 10);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_ge(out.n, 1);
    ck_assert_uint_lt(out.n, 10);
    /* The create that hit the deadline may still have happened: the repeat
     * finds it, completes the batch, and no index is ever created twice. */
    config("{\"latency\": 0}");
    struct timespec ts = { 0, 600 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    mod.ops->fini(st);
    st = driver("t2pool", 20000, &err);
    cb_instance_list_free(&out);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 10);
    ck_assert_int_eq(state_num("instances"), 10);
    ck_assert_int_eq(state_num("creates"), 10);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(terminate_refused_reports_id)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver("t2pool", 20000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("td", 2);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    fault("[{\"method\": \"DELETE\", \"path_re\": \"/api/instances/\", \"status\": 405, "
          "\"fixture\": \"error-404.xml\"}]");
    const char *ids[2] = { out.items[0].id, out.items[1].id };
    bool failed[2];
    ck_assert_int_eq(mod.ops->terminate(st, ids, 2, failed, &err), -1);
    ck_assert(failed[0]);
    ck_assert(!failed[1]);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(err.msg, out.items[0].id));
    ck_assert_int_eq(state_num("instances"), 1);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("deltacloud");
    TCase *p = tcase_create("parsers");
    tcase_add_test(p, entry_point_links_and_features);
    tcase_add_test(p, instances_collection_and_single);
    tcase_add_test(p, malformed_and_hostile_xml);
    tcase_add_test(p, faults_names_and_states);
    suite_add_tcase(s, p);
    TCase *d = tcase_create("driver");
    tcase_add_checked_fixture(d, setup, teardown);
    tcase_set_timeout(d, 120);
    tcase_add_test(d, loads_and_checks_settings);
    tcase_add_test(d, boot_list_terminate_lifecycle);
    tcase_add_test(d, boot_never_repeats_an_index);
    tcase_add_test(d, lost_create_reply);
    tcase_add_test(d, errors_classified);
    tcase_add_test(d, quota_and_partial_batches);
    tcase_add_test(d, terminate_refused_reports_id);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
