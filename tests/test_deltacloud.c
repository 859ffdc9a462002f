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
#include "fake_check.h"
#include "provider.h"
#include "provider_loader.h"

#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PASSWORD "mockpassword"

/* ---- parsers ---------------------------------------------------------------- */

START_TEST(entry_point_links_and_features)
{
    size_t len;
    char *body = check_fixture("deltacloud", "api.xml", &len);
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
    body = check_fixture("deltacloud", "instances.xml", &len);
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
    char *body = check_fixture("deltacloud", "instances.xml", &len);
    ck_assert_int_eq(dc_parse_instances(body, len, &l, &err), 0);
    ck_assert_uint_eq(l.n, 14);
    ck_assert_str_eq(l.items[0].id, "inst6");
    ck_assert_str_eq(l.items[0].state, "STOPPED");
    ck_assert_uint_eq(l.items[0].actions, DC_ACTION_START | DC_ACTION_DESTROY);
    ck_assert_str_eq(l.items[1].realm, "eu");
    ck_assert_str_eq(l.items[3].name, "MockUserInstance");
    ck_assert_str_eq(l.items[5].name, "Mock Instance With Profile Change");
    free(body);

    body = check_fixture("deltacloud", "instance-create.xml", &len);
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
    body = check_fixture("deltacloud", "instance-stop.xml", &len);
    ck_assert_int_eq(dc_parse_instances(body, len, &l, &err), 0);
    ck_assert_str_eq(l.items[15].state, "STOPPED");
    ck_assert(l.items[15].actions & DC_ACTION_DESTROY);
    free(body);
    body = check_fixture("deltacloud", "instance-get.xml", &len);
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
    char *body = check_fixture("deltacloud", "error-404.xml", &len);
    ck_assert_int_eq(dc_parse_fault(body, len, msg, sizeof msg), 0);
    ck_assert_str_eq(msg, "Not Found");
    free(body);
    body = check_fixture("deltacloud", "error-401.txt", &len);
    ck_assert_int_eq(dc_parse_fault(body, len, msg, sizeof msg), -1);
    ck_assert_str_eq(msg, "Authentication failed");
    free(body);
    body = check_fixture("deltacloud", "error-404-sinatra.html", &len);
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

static struct fake_server fk;
static struct cb_provider_module mod;
static struct log_capture logs;

#define ctl(method, path, body) fake_check_ctl(&fk, method, path, body)
#define state_num(key) fake_check_num(&fk, key, NULL)
#define request_count(key) fake_check_num(&fk, "requests", key)
#define fault(json) fake_check_post(&fk, "/_fake/faults", json)
#define config(json) fake_check_post(&fk, "/_fake/config", json)

#define MAX_SETTINGS 16
static struct cb_setting items[MAX_SETTINGS];
static struct cb_settings settings;
static char api_url[128];
static const char *const hwp_map[] = { "m1.small=m1-large", "m1.tiny=m1-small" };
#define set(name, type, str, num) \
    check_setting(&settings, MAX_SETTINGS, 20, "/etc/cloudburst/dc-password", name, type, str, num)

static void setup(void)
{
    log_capture_reset(&logs);
    fake_check_start(&fk, "fake_deltacloud.py", NULL);
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
    check_load_driver(&mod, "deltacloud");
}

static void teardown(void)
{
    cb_provider_unload(&mod);
    fake_server_stop(&fk);
}

static void *driver(const char *pool, unsigned call_ms, struct cb_err *err)
{
    struct cb_provider_init args = {
        .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "dc-test", .pool_name = pool,
        .settings = &settings, .connect_timeout_ms = 2000, .call_timeout_ms = call_ms,
        .log = log_capture_fn, .log_payload = &logs,
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
    /* The three creates run in parallel, so any of them may be the last. */
    ck_assert(json_object_object_get_ex(doc, "names", &v));
    ck_assert_uint_eq(json_object_array_length(v), 3);
    bool seen[3] = { false, false, false };
    for (size_t i = 0; i < 3; i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(v, i));
        for (unsigned k = 0; k < 3; k++) {
            char want[32];
            snprintf(want, sizeof want, "t2pool--b-7-%u", k);
            if (strcmp(name, want) == 0)
                seen[k] = true;
        }
    }
    ck_assert(seen[0] && seen[1] && seen[2]);
    ck_assert(json_object_object_get_ex(doc, "last_create", &lc));
    ck_assert(json_object_object_get_ex(lc, "name", &v));
    ck_assert_int_eq(strncmp(json_object_get_string(v), "t2pool--b-7-", 12), 0);
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
    ck_assert_ptr_null(strstr(logs.buf, PASSWORD));
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
    ck_assert_ptr_nonnull(strstr(logs.buf, "was lost"));

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
    ck_assert_ptr_nonnull(strstr(logs.buf, "started 2 of 3"));
    /* ... and why: the partial batch still carries the quota error. */
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "started 2 of 3"));
    ck_assert_ptr_nonnull(strstr(err.msg, "InstanceLimitExceeded"));
    ck_assert_int_eq(state_num("instances"), 2);
    cb_err_clear(&err);
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
    set("max_parallel_requests", CB_SETTING_INT, NULL, 2);
    st = driver("t2pool", 1600, &err);
    s = spec("slow", 10);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_ge(out.n, 1);
    ck_assert_uint_lt(out.n, 10);
    ck_assert_int_eq(err.code, CB_ERR_TIMEOUT);
    cb_err_clear(&err);
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

/* Restart the fake with arguments (the default one from setup goes). */
static void restart_fake(const char *const *args)
{
    fake_server_stop(&fk);
    fake_check_start(&fk, "fake_deltacloud.py", args);
    snprintf(api_url, sizeof api_url, "%s/api/", fk.base);
}

START_TEST(boot_posts_concurrently_within_the_bound)
{
    struct cb_err err = CB_ERR_INIT;
    config("{\"latency\": 0.3}");
    set("max_parallel_requests", CB_SETTING_INT, NULL, 4);
    void *st = driver("t2pool", 30000, &err);
    ck_assert_ptr_nonnull(st);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("par", 12);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 12);
    ck_assert(!cb_err_isset(&err));
    for (unsigned i = 0; i < 12; i++) { /* in index order, whatever order the replies came in */
        char node[32];
        snprintf(node, sizeof node, "par-%u", i);
        ck_assert_str_eq(out.items[i].node_id, node);
    }
    ck_assert_int_eq(state_num("posts"), 12);
    long long most = state_num("max_inflight");
    ck_assert_int_le(most, 4); /* never more than the setting */
    ck_assert_int_ge(most, 2); /* and really in parallel (12 x 0.3 s would not fit otherwise) */
    cb_instance_list_free(&out);
    mod.ops->fini(st);

    /* The setting is range-checked with its origin. */
    set("max_parallel_requests", CB_SETTING_INT, NULL, 0);
    ck_assert_ptr_null(driver("t2pool", 5000, &err));
    ck_assert_ptr_nonnull(strstr(err.origin, "max_parallel_requests"));
    ck_assert_ptr_nonnull(strstr(err.msg, "1..256"));
}
END_TEST

START_TEST(quota_in_the_middle_of_a_parallel_batch)
{
    /* 5 may exist, 20 are asked for with 8 in flight: exactly 5 are created,
     * every one is returned, the rest is reported as quota, and a repeat
     * creates nothing twice. */
    struct cb_err err = CB_ERR_INIT;
    config("{\"quota\": 5}");
    set("max_parallel_requests", CB_SETTING_INT, NULL, 8);
    void *st = driver("t2pool", 30000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("mid", 20);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 5);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "started 5 of 20"));
    ck_assert_int_eq(state_num("creates"), 5);
    ck_assert_int_le(state_num("posts"), 5 + 8); /* the refusal stopped what was not sent */
    cb_err_clear(&err);
    config("{\"quota\": 100}");
    cb_instance_list_free(&out);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 20);
    ck_assert(!cb_err_isset(&err));
    ck_assert_int_eq(state_num("creates"), 20);
    ck_assert_int_eq(state_num("instances"), 20);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(lost_replies_in_a_parallel_batch)
{
    /* Three of eight create replies are lost (the instances exist): one list
     * finds them, nothing is created twice. */
    struct cb_err err = CB_ERR_INIT;
    set("max_parallel_requests", CB_SETTING_INT, NULL, 8);
    void *st = driver("t2pool", 30000, &err);
    fault("[{\"method\": \"POST\", \"path_re\": \"^/api/instances$\", \"when\": \"after\", "
          "\"drop\": true, \"times\": 3, \"skip\": 2}]");
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("lostp", 8);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 8);
    ck_assert(!cb_err_isset(&err));
    ck_assert_int_eq(state_num("creates"), 8);
    ck_assert_int_eq(request_count("GET /api/instances"), 2); /* before, and once to resolve */
    ck_assert_ptr_nonnull(strstr(logs.buf, "3 create replies were lost; 3 of those instances exist"));
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(world_pool_hooks_state_file_and_control)
{
    struct fake_world w;
    restart_fake(fake_world_prepare(&w, "# two addresses\n198.18.0.11\n198.18.0.12\n", NULL));
    struct cb_err err = CB_ERR_INIT;
    void *st = driver("t2pool", 20000, &err);
    ck_assert_ptr_nonnull(st);

    /* Two addresses: the third instance is refused with the quota error. The
     * hooks ran, with id and address, before the create replies came back. */
    struct cb_instance_list out = { 0 }, all = { 0 };
    struct cb_boot_spec s = spec("w", 3);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    cb_err_clear(&err);
    fake_world_check_booted(&w, &out, (const char *const[]){ "198.18.0.11", "198.18.0.12", NULL });
    ck_assert_int_eq(state_num("addresses_free"), 0);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(fake_check_state_file(w.state, &all), 2);

    /* Terminate one: its hook runs, its address is free again, the state file follows. */
    const char *ids[1] = { out.items[0].id };
    ck_assert_int_eq(mod.ops->terminate(st, ids, 1, NULL, &err), 0);
    ck_assert(fake_check_hook_ran(w.files.dir, "down", out.items[0].id, out.items[0].private_ip));
    ck_assert_int_eq(state_num("addresses_free"), 1);
    cb_instance_list_free(&all);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(all.n, 1);
    ck_assert_uint_eq(fake_check_state_file(w.state, &all), 1);
    struct cb_instance_list again = { 0 };
    s = spec("w2", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &again, &err), 0);
    ck_assert_str_eq(again.items[0].private_ip, out.items[0].private_ip);

    /* Faults at run time through the control file. */
    fake_world_control(&w, "throttle 1\n");
    cb_instance_list_free(&all);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_THROTTLED);
    cb_err_clear(&err);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0); /* one only */
    fake_world_control(&w, "error 1\n");
    cb_instance_list_free(&all);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_TRANSIENT);
    cb_err_clear(&err);
    fake_world_control(&w, "quota\n");
    s = spec("w3", 1);
    struct cb_instance_list none = { 0 };
    ck_assert_int_eq(mod.ops->boot(st, &s, &none, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_uint_eq(none.n, 0);
    ck_assert_int_eq(fake_check_num(&fk, "faults_applied", "quota"), 1);
    cb_err_clear(&err);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0); /* listing is not a boot */

    cb_instance_list_free(&all);
    cb_instance_list_free(&again);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
    fake_world_done(&w);
}
END_TEST

START_TEST(world_failing_hook_and_bad_fault_specs)
{
    /* A hook that fails is logged and recorded, not fatal: the boot goes on. */
    struct fake_world w;
    fake_world_prepare(&w, "198.18.0.31\n", NULL);
    const char *args[] = { "--on-boot", "false", "--control", w.control, NULL };
    restart_fake(args);
    fake_world_control(&w, "throttle x\nlatency 0\n"); /* the bad line is skipped */
    struct cb_err err = CB_ERR_INIT;
    void *st = driver("t2pool", 20000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("hf", 1);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s", err.msg);
    json_object *doc = ctl("GET", "/_fake/state", NULL), *hooks, *h0;
    ck_assert(json_object_object_get_ex(doc, "hooks", &hooks));
    ck_assert_uint_eq(json_object_array_length(hooks), 1);
    h0 = json_object_array_get_idx(hooks, 0);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(h0, 0)), "boot");
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(h0, 1)), out.items[0].id);
    ck_assert_int_eq(json_object_get_int(json_object_array_get_idx(h0, 3)), 1); /* false(1) */
    json_object_put(doc);
    cb_instance_list_free(&out);
    mod.ops->fini(st);

    /* A fault spec the fake cannot read stops it at start, with a message. */
    struct fake_server bad = { 0 };
    char msg[256];
    const char *bad_args[] = { "--fault", "throttle many", NULL };
    struct fake_server_opts o = { .script = "fake_deltacloud.py", .args = bad_args };
    ck_assert_int_eq(fake_server_start(&bad, &o, msg, sizeof msg), -1);
    ck_assert_ptr_nonnull(strstr(msg, "exited"));
    fake_world_done(&w);
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
    tcase_add_test(d, boot_posts_concurrently_within_the_bound);
    tcase_add_test(d, quota_in_the_middle_of_a_parallel_batch);
    tcase_add_test(d, lost_replies_in_a_parallel_batch);
    tcase_add_test(d, world_pool_hooks_state_file_and_control);
    tcase_add_test(d, world_failing_hook_and_bad_fault_specs);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    return check_run(suite());
}
