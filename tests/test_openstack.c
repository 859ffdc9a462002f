/* test_openstack: the OpenStack driver and its parsers.
 *
 * Parser cases read the recorded replies in tests/fixtures/openstack/. Driver
 * cases load providers/openstack through cb_provider_load from
 * $top_builddir/providers and talk to tests/fake/fake_openstack.py on
 * 127.0.0.1, one fresh fake per case; the fake's counters (servers, boots,
 * tokens, requests) are what the assertions check.
 */
#include "cb_http.h"
#include "cb_text.h"
#include "fake_check.h"
#include "os_parse.h"
#include "provider.h"
#include "provider_loader.h"

#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD "secret-password"

/* ---- fixtures --------------------------------------------------------------- */

/* ---- parser cases ------------------------------------------------------------ */

START_TEST(token_catalog_by_region_and_interface)
{
    size_t len;
    char *body = check_fixture("openstack", "libcloud/_v3__auth.json", &len);
    struct os_token_info info;
    struct cb_err err = CB_ERR_INIT;

    ck_assert_int_eq(os_parse_token(body, len, "regionOne", "public", 1, &info, &err), 0);
    ck_assert_str_eq(info.compute_url, "http://192.168.18.100:8774/v2/9c4693dce56b493b9b83197d900f7fba");
    ck_assert_str_eq(info.image_url, "http://192.168.18.100:9292");
    ck_assert_int_eq(info.expires_at, 1407698157);
    ck_assert_str_eq(info.project_id, "9c4693dce56b493b9b83197d900f7fba");
    ck_assert_int_eq(os_parse_token(body, len, NULL, "internal", 1, &info, &err), 0);
    ck_assert_str_eq(info.compute_url, "http://controller:8774/v2/9c4693dce56b493b9b83197d900f7fba");
    ck_assert_int_eq(os_parse_token(body, len, "nowhere", "public", 1, &info, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "nowhere"));
    ck_assert_str_eq(info.compute_url, "");
    cb_err_clear(&err);
    /* With compute_endpoint set, a missing compute entry is fine. */
    ck_assert_int_eq(os_parse_token(body, len, "nowhere", "public", 0, &info, &err), 0);
    free(body);

    body = check_fixture("openstack", "keystone/project-scoped-password.json", &len);
    ck_assert_int_eq(os_parse_token(body, len, "RegionOne", "public", 1, &info, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT); /* catalog holds only identity */
    cb_err_clear(&err);
    ck_assert_int_eq(os_parse_token(body, len, "RegionOne", "public", 0, &info, &err), 0);
    ck_assert_int_eq(info.expires_at, 1446865123); /* 2015-11-07T02:58:43.578887Z */
    free(body);

    body = check_fixture("openstack", "authored/token-without-catalog.json", &len);
    ck_assert_int_eq(os_parse_token(body, len, NULL, "public", 1, &info, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_str_eq(err.origin, "openstack:keystone:token.catalog");
    free(body);
}
END_TEST

START_TEST(servers_page_and_next_marker)
{
    size_t len, items = 99;
    char *body = check_fixture("openstack", "nova/servers-details-resp.json", &len);
    struct cb_instance_list list = { 0 };
    struct os_server_filter f = { .pool = "pool" };
    char marker[CB_ID_MAX];
    struct cb_err err = CB_ERR_INIT;

    ck_assert_int_eq(os_parse_servers(body, len, &f, &list, &items, marker, sizeof marker, &err), 0);
    ck_assert_uint_eq(items, 1);
    ck_assert_uint_eq(list.n, 0); /* the sample server carries no cloudburst tags */
    ck_assert_str_eq(marker, "f5dc173b-6804-445a-a6d8-c705dad5b5eb");
    free(body);

    /* Real HP Cloud reply: integer ids, no next link. */
    body = check_fixture("openstack", "hpcloud/servers-detail-hpcloud.json", &len);
    ck_assert_int_eq(os_parse_servers(body, len, &f, &list, &items, marker, sizeof marker, &err), 0);
    ck_assert_uint_eq(items, 1);
    ck_assert_str_eq(marker, "");
    free(body);
    cb_instance_list_free(&list);
}
END_TEST

START_TEST(servers_ours_with_index_state_and_addresses)
{
    const char *body =
        "{\"servers\": ["
        "{\"id\": \"a\", \"name\": \"p.1--b7-3\", \"status\": \"ACTIVE\", \"metadata\": "
        "{\"cloudburst-pool\": \"p.1\", \"cloudburst-batch\": \"b7\"}, \"addresses\": {\"net\": ["
        "{\"addr\": \"127.0.0.5\", \"OS-EXT-IPS:type\": \"fixed\"}, {\"addr\": \"127.9.0.5\", "
        "\"OS-EXT-IPS:type\": \"floating\"}]}, \"flavor\": {\"original_name\": \"m1.small\"}, "
        "\"image\": {\"id\": \"img\"}, \"created\": \"2020-01-01T00:00:00Z\"},"
        "{\"id\": 42, \"name\": \"p.1--b7\", \"status\": \"ACTIVE(deleting)\", \"metadata\": "
        "{\"cloudburst-pool\": \"p.1\", \"cloudburst-batch\": \"b7\"}, \"image\": \"\"},"
        "{\"id\": \"c\", \"name\": \"p.1--b8-1\", \"status\": \"ERROR\", \"fault\": {\"message\": "
        "\"No valid host was found.\\n\"}, \"metadata\": {\"cloudburst-pool\": \"p.1\", "
        "\"cloudburst-batch\": \"b8\"}},"
        "{\"id\": \"d\", \"name\": \"p.1--b7-2\", \"status\": \"ACTIVE\", \"metadata\": "
        "{\"cloudburst-pool\": \"other\", \"cloudburst-batch\": \"b7\"}}]}";
    struct cb_instance_list list = { 0 };
    struct os_server_filter f = { .pool = "p.1", .batch = "b7" };
    size_t items;
    char marker[64];
    struct cb_err err = CB_ERR_INIT;

    ck_assert_int_eq(os_parse_servers(body, strlen(body), &f, &list, &items, marker, sizeof marker,
                                      &err), 0);
    ck_assert_uint_eq(items, 4);
    ck_assert_uint_eq(list.n, 2);
    ck_assert_str_eq(list.items[0].node_id, "b7-2");
    ck_assert_int_eq(list.items[0].state, CB_INSTANCE_RUNNING);
    ck_assert_str_eq(list.items[0].private_ip, "127.0.0.5");
    ck_assert_str_eq(list.items[0].public_ip, "127.9.0.5");
    ck_assert_str_eq(list.items[0].flavor, "m1.small");
    ck_assert_int_eq(list.items[0].launch_time, 1577836800);
    ck_assert_str_eq(list.items[1].id, "42");
    ck_assert_str_eq(list.items[1].node_id, "b7-0");
    ck_assert_int_eq(list.items[1].state, CB_INSTANCE_STOPPING);
    f.batch = NULL;
    list.n = 0;
    ck_assert_int_eq(os_parse_servers(body, strlen(body), &f, &list, &items, marker, sizeof marker,
                                      &err), 0);
    ck_assert_uint_eq(list.n, 3);
    ck_assert_int_eq(list.items[2].state, CB_INSTANCE_ERROR);
    ck_assert_str_eq(list.items[2].state_reason, "No valid host was found.?");
    ck_assert_str_eq(list.items[2].node_id, "b8-0");
    cb_instance_list_free(&list);
}
END_TEST

START_TEST(servers_malformed_named_clearly)
{
    static const struct {
        const char *file;
        const char *origin;
    } cases[] = {
        { "authored/servers-truncated.json", "openstack:servers" },
        { "authored/servers-wrong-type.json", "openstack:servers" },
        { "authored/server-without-id.json", "openstack:servers[0].id" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len, items = 7;
        char *body = check_fixture("openstack", cases[i].file, &len);
        struct cb_instance_list list = { 0 };
        struct os_server_filter f = { .pool = "pool" };
        char marker[64] = "x";
        struct cb_err err = CB_ERR_INIT;
        ck_assert_int_eq(os_parse_servers(body, len, &f, &list, &items, marker, sizeof marker, &err), -1);
        ck_assert_int_eq(err.code, CB_ERR_INVALID);
        ck_assert_str_eq(err.origin, cases[i].origin);
        ck_assert_uint_eq(list.n, 0);
        ck_assert_uint_eq(items, 0);
        ck_assert_str_eq(marker, "");
        free(body);
        cb_instance_list_free(&list);
    }
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list list = { 0 };
    struct os_server_filter f = { .pool = "pool" };
    size_t items;
    char marker[64];
    ck_assert_int_eq(os_parse_servers("{\"servers\": []} x", 17, &f, &list, &items, marker,
                                      sizeof marker, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "malformed JSON at byte 16"));
    cb_err_clear(&err);
    const char *deep = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";
    ck_assert_int_eq(os_parse_servers(deep, strlen(deep), &f, &list, &items, marker, sizeof marker, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(os_parse_servers(NULL, 0, &f, &list, &items, marker, sizeof marker, &err), -1);
}
END_TEST

START_TEST(refs_create_and_faults)
{
    size_t len;
    char id[CB_ID_MAX], msg[256];
    struct cb_err err = CB_ERR_INIT;
    char *body = check_fixture("openstack", "nova/flavors-list-resp.json", &len);
    ck_assert_int_eq(os_parse_find_ref(body, len, "flavors", "m1.small", id, sizeof id, &err), 0);
    ck_assert_str_eq(id, "2");
    ck_assert_int_eq(os_parse_find_ref(body, len, "flavors", "4", id, sizeof id, &err), 0);
    ck_assert_str_eq(id, "4");
    ck_assert_int_eq(os_parse_find_ref(body, len, "flavors", "m9.huge", id, sizeof id, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    cb_err_clear(&err);
    ck_assert_int_eq(os_parse_find_ref(body, len, "images", "m1.small", id, sizeof id, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    free(body);
    body = check_fixture("openstack", "nova/images-list-get-resp.json", &len);
    ck_assert_int_eq(os_parse_find_ref(body, len, "images", "fakeimage7", id, sizeof id, &err), 0);
    ck_assert_str_eq(id, "70a599e0-31e7-49b7-b260-868f441e862b");
    ck_assert_int_eq(os_parse_find_ref(body, len, "images", "fakeimage123456", id, sizeof id, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "ambiguous"));
    cb_err_clear(&err);
    free(body);

    body = check_fixture("openstack", "nova/server-create-resp.json", &len);
    ck_assert_int_eq(os_parse_create(body, len, id, sizeof id, &err), 0);
    ck_assert_str_eq(id, "f5dc173b-6804-445a-a6d8-c705dad5b5eb");
    free(body);
    body = check_fixture("openstack", "nova/multiple-create-post-resp.json", &len);
    ck_assert_int_eq(os_parse_create(body, len, id, sizeof id, &err), 0);
    ck_assert_str_eq(id, "r-3fhpjulh");
    free(body);
    body = check_fixture("openstack", "hpcloud/servers-create-hpcloud.json", &len);
    ck_assert_int_eq(os_parse_create(body, len, id, sizeof id, &err), 0);
    ck_assert_str_eq(id, "815229");
    free(body);
    ck_assert_int_eq(os_parse_create("{\"server\": {}}", 14, id, sizeof id, &err), -1);
    ck_assert_str_eq(err.origin, "openstack:server.id");

    body = check_fixture("openstack", "libcloud/_os_keypairs_not_found.json", &len);
    ck_assert_int_eq(os_parse_fault(body, len, msg, sizeof msg), 0);
    ck_assert_str_eq(msg, "The resource could not be found.");
    free(body);
    body = check_fixture("openstack", "hpcloud/tokens-401-hpcloud.json", &len);
    ck_assert_int_eq(os_parse_fault(body, len, msg, sizeof msg), 0);
    ck_assert_uint_gt(strlen(msg), 0);
    free(body);
    body = check_fixture("openstack", "authored/quota-exceeded-403.json", &len);
    ck_assert_int_eq(os_parse_fault(body, len, msg, sizeof msg), 0);
    ck_assert_ptr_nonnull(strstr(msg, "Quota exceeded for instances"));
    free(body);
    ck_assert_int_eq(os_parse_fault("<html>\r\n<h1>502 Bad Gateway</h1>", 32, msg, sizeof msg), -1);
    ck_assert_str_eq(msg, "<html>?" "?<h1>502 Bad Gateway</h1>");
}
END_TEST

START_TEST(console_host_keys)
{
    size_t len;
    char keys[1024];
    struct cb_err err = CB_ERR_INIT;
    char *body = check_fixture("openstack", "authored/console-output-host-keys.json", &len);
    ck_assert_int_eq(os_parse_console_host_keys(body, len, keys, sizeof keys, &err), 0);
    ck_assert_int_eq(strncmp(keys, "ecdsa-sha2-nistp256 AAAAE2VjZHNh", 32), 0);
    ck_assert_ptr_nonnull(strstr(keys, "\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
    ck_assert_ptr_null(strstr(keys, "root@")); /* comments dropped */
    ck_assert_ptr_null(strstr(keys, "not a key"));
    ck_assert_ptr_null(strchr(keys, '\033'));
    ck_assert_int_eq(keys[strlen(keys) - 1], '\n');
    ck_assert_int_eq(os_parse_console_host_keys(body, len, keys, 64, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_str_eq(keys, "");
    free(body);
    cb_err_clear(&err);
    const char *early = "{\"output\": \"cloud-init starting\\n-----BEGIN SSH HOST KEY KEYS-----\\n\"}";
    ck_assert_int_eq(os_parse_console_host_keys(early, strlen(early), keys, sizeof keys, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    cb_err_clear(&err);
    const char *junk = "{\"output\": \"-----BEGIN SSH HOST KEY KEYS-----\\nssh-rsa !!!!\\n"
                       "-----END SSH HOST KEY KEYS-----\\n\"}";
    ck_assert_int_eq(os_parse_console_host_keys(junk, strlen(junk), keys, sizeof keys, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
}
END_TEST

START_TEST(status_and_time_mapping)
{
    ck_assert_int_eq(os_map_status("BUILD", "spawning"), CB_INSTANCE_PENDING);
    ck_assert_int_eq(os_map_status("ACTIVE", NULL), CB_INSTANCE_RUNNING);
    ck_assert_int_eq(os_map_status("ACTIVE", "deleting"), CB_INSTANCE_STOPPING);
    ck_assert_int_eq(os_map_status("ACTIVE(deleting)", NULL), CB_INSTANCE_STOPPING);
    ck_assert_int_eq(os_map_status("SHUTOFF", NULL), CB_INSTANCE_STOPPING);
    ck_assert_int_eq(os_map_status("DELETED", NULL), CB_INSTANCE_TERMINATED);
    ck_assert_int_eq(os_map_status("ERROR", NULL), CB_INSTANCE_ERROR);
    ck_assert_int_eq(os_map_status("SOMETHING_NEW", NULL), CB_INSTANCE_UNKNOWN);
    ck_assert_int_eq(os_map_status(NULL, NULL), CB_INSTANCE_UNKNOWN);
    int64_t t;
    ck_assert_int_eq(os_parse_time("2015-11-07T02:58:43.578887Z", &t), 0);
    ck_assert_int_eq(t, 1446865123);
    ck_assert_int_eq(os_parse_time("2013-09-23T13:53:12.774549", &t), 0);
    ck_assert_int_eq(t, 1379944392);
    ck_assert_int_eq(os_parse_time("2020-01-01T02:00:00+02:00", &t), 0);
    ck_assert_int_eq(t, 1577836800);
    ck_assert_int_eq(os_parse_time("2020-13-01T00:00:00Z", &t), -1);
    ck_assert_int_eq(os_parse_time("2020-01-01T00:00:00Zjunk", &t), -1);
    ck_assert_int_eq(os_parse_time("", &t), -1);
    ck_assert_int_eq(t, -1);
}
END_TEST

/* ---- the fake and the driver ------------------------------------------------ */

static struct fake_server fk;
static struct cb_provider_module mod;
static struct log_capture logs;

#define ctl(method, path, body) fake_check_ctl(&fk, method, path, body)
#define state_num(key) fake_check_num(&fk, key, NULL)
#define request_count(key) fake_check_num(&fk, "requests", key)
#define fault(json) fake_check_post(&fk, "/_fake/faults", json)
#define config(json) fake_check_post(&fk, "/_fake/config", json)

/* Settings of one cloud, overridable per case. */
#define MAX_SETTINGS 24
static struct cb_setting items[MAX_SETTINGS];
static struct cb_settings settings;
static char auth_url[128];
static const char *const networks[] = { "3cb9bc59-5699-4588-a4b1-b87f96708bc6" };
static const char *const groups[] = { "default", "condor" };

#define set(name, type, str, num) \
    check_setting(&settings, MAX_SETTINGS, 10, "/etc/cloudburst/os-password", name, type, str, num)

static void base_settings(void)
{
    settings.items = items;
    settings.n = 0;
    settings.file = "/etc/cloudburst/cloudburst.conf";
    settings.path = "clouds.[0].openstack";
    snprintf(auth_url, sizeof auth_url, "http://127.0.0.1:%d/identity/v3", fk.port);
    set("auth_url", CB_SETTING_STRING, auth_url, 0);
    set("username", CB_SETTING_STRING, "demo", 0);
    set("password_file", CB_SETTING_SECRET_FILE, PASSWORD, 0);
    set("project_name", CB_SETTING_STRING, "demo", 0);
    set("page_size", CB_SETTING_INT, NULL, 1000);
    set("microversion", CB_SETTING_STRING, "2.47", 0);
}

static void setup(void)
{
    static const char *const args[] = { "--build-time", "0", NULL };
    log_capture_reset(&logs);
    fake_check_start(&fk, "fake_openstack.py", args);
    base_settings();
    check_load_driver(&mod, "openstack");
}

static void teardown(void)
{
    cb_provider_unload(&mod);
    fake_server_stop(&fk);
}

static void *driver(unsigned call_ms, struct cb_err *err)
{
    struct cb_provider_init args = {
        .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "os-test", .pool_name = "t2pool",
        .settings = &settings, .connect_timeout_ms = 2000, .call_timeout_ms = call_ms,
        .log = log_capture_fn, .log_payload = &logs,
    };
    void *st = NULL;
    if (mod.ops->init(&st, &args, err) != 0)
        return NULL;
    return st;
}

static struct cb_boot_spec spec(const char *batch, unsigned count)
{
    struct cb_boot_spec s = { .batch_id = batch, .count = count, .flavor = "m1.small",
                              .image = "fakeimage7", .user_data = "#cloud-config\n",
                              .user_data_len = 14 };
    return s;
}

START_TEST(loads_with_settings_spec)
{
    ck_assert_str_eq(mod.ops->name, "openstack");
    ck_assert_int_eq(mod.ops->abi_version, CB_PROVIDER_ABI_VERSION);
    ck_assert(mod.ops->caps & CB_PROVIDER_CAP_BATCH_BOOT);
    const char *want[] = { "auth_url", "auth_method", "password_file",
                           "application_credential_secret_file", "region", "interface",
                           "compute_endpoint", "networks", "security_groups", "microversion" };
    for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
        bool found = false;
        for (const struct cb_setting_spec *s = mod.ops->settings; s->name; s++)
            if (strcmp(s->name, want[w]) == 0) {
                found = true;
                if (strstr(want[w], "_file"))
                    ck_assert_int_eq(s->type, CB_SETTING_SECRET_FILE);
            }
        ck_assert_msg(found, "setting %s missing", want[w]);
    }
}
END_TEST

START_TEST(init_rejects_bad_settings_by_name)
{
    struct cb_err err = CB_ERR_INIT;
    set("auth_method", CB_SETTING_STRING, "kerberos", 0);
    ck_assert_ptr_null(driver(5000, &err));
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.origin, "auth_method"));
    cb_err_clear(&err);
    set("auth_method", CB_SETTING_STRING, "application_credential", 0);
    ck_assert_ptr_null(driver(5000, &err));
    ck_assert_ptr_nonnull(strstr(err.origin, "application_credential_id"));
    cb_err_clear(&err);
    set("auth_method", CB_SETTING_STRING, "password", 0);
    set("auth_url", CB_SETTING_STRING, "ftp://example.org/", 0);
    ck_assert_ptr_null(driver(5000, &err));
    ck_assert_str_eq(err.origin, "/etc/cloudburst/cloudburst.conf:11 (auth_url)");
    cb_err_clear(&err);
    set("auth_url", CB_SETTING_STRING, auth_url, 0);
    set("microversion", CB_SETTING_STRING, "latest", 0);
    ck_assert_ptr_null(driver(5000, &err));
    ck_assert_ptr_nonnull(strstr(err.origin, "microversion"));
}
END_TEST

START_TEST(boot_list_terminate_lifecycle)
{
    struct cb_err err = CB_ERR_INIT;
    set("networks", CB_SETTING_STRING_LIST, NULL, 0);
    items[settings.n - 1].list = networks;
    items[settings.n - 1].list_len = 1;
    set("security_groups", CB_SETTING_STRING_LIST, NULL, 0);
    items[settings.n - 1].list = groups;
    items[settings.n - 1].list_len = 2;
    set("key_name", CB_SETTING_STRING, "cloudburst", 0);
    void *st = driver(20000, &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("b-0001", 5);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s: %s", err.origin, err.msg);
    ck_assert_uint_eq(out.n, 5);
    bool seen[5] = { false };
    for (size_t i = 0; i < out.n; i++) {
        ck_assert_str_eq(out.items[i].batch_id, "b-0001");
        ck_assert_int_eq(strncmp(out.items[i].node_id, "b-0001-", 7), 0);
        int idx = atoi(out.items[i].node_id + 7);
        ck_assert(idx >= 0 && idx < 5 && !seen[idx]);
        seen[idx] = true;
        ck_assert_int_eq(strncmp(out.items[i].private_ip, "127.", 4), 0);
        ck_assert_str_eq(out.items[i].flavor, "2");
    }
    ck_assert_int_eq(state_num("servers"), 5);
    ck_assert_int_eq(state_num("boots"), 5);

    /* What the fake received: names, counts, tags, user data, network options. */
    json_object *doc = ctl("GET", "/_fake/state", NULL), *lc, *srv, *v;
    ck_assert(json_object_object_get_ex(doc, "last_create", &lc));
    ck_assert(json_object_object_get_ex(lc, "server", &srv));
    ck_assert(json_object_object_get_ex(srv, "name", &v));
    ck_assert_str_eq(json_object_get_string(v), "t2pool--b-0001");
    ck_assert(json_object_object_get_ex(srv, "max_count", &v));
    ck_assert_int_eq(json_object_get_int(v), 5);
    ck_assert(json_object_object_get_ex(srv, "min_count", &v));
    ck_assert_int_eq(json_object_get_int(v), 1);
    ck_assert(json_object_object_get_ex(srv, "user_data", &v));
    ck_assert_str_eq(json_object_get_string(v), "I2Nsb3VkLWNvbmZpZwo=");
    ck_assert(json_object_object_get_ex(srv, "key_name", &v));
    ck_assert_str_eq(json_object_get_string(v), "cloudburst");
    ck_assert(json_object_object_get_ex(srv, "security_groups", &v));
    ck_assert_int_eq(json_object_array_length(v), 2);
    ck_assert(json_object_object_get_ex(srv, "networks", &v));
    ck_assert_int_eq(json_object_array_length(v), 1);
    ck_assert(json_object_object_get_ex(srv, "metadata", &v));
    ck_assert_str_eq(json_object_get_string(json_object_object_get(v, "cloudburst-pool")), "t2pool");
    ck_assert_str_eq(json_object_get_string(json_object_object_get(v, "cloudburst-batch")), "b-0001");
    ck_assert(json_object_object_get_ex(srv, "imageRef", &v));
    ck_assert_str_eq(json_object_get_string(v), "70a599e0-31e7-49b7-b260-868f441e862b");
    json_object_put(doc);
    ck_assert_int_eq(request_count("GET /image/v2/images"), 1);

    /* A single boot is named without suffix: index 0. */
    struct cb_instance_list one = { 0 };
    s = spec("b-0002", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &one, &err), 0);
    ck_assert_uint_eq(one.n, 1);
    ck_assert_str_eq(one.items[0].node_id, "b-0002-0");
    ck_assert_int_eq(request_count("GET /image/v2/images"), 1); /* resolved names are cached */

    struct cb_instance_list all = { 0 };
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(all.n, 6);
    for (size_t i = 0; i < all.n; i++)
        ck_assert_int_eq(all.items[i].state, CB_INSTANCE_RUNNING);

    const char *ids[3] = { out.items[0].id, out.items[1].id, "00000000-0000-0000-0000-000000000000" };
    bool failed[3] = { true, true, true };
    ck_assert_int_eq(mod.ops->terminate(st, ids, 3, failed, &err), 0);
    ck_assert(!failed[0] && !failed[1] && !failed[2]); /* unknown id: already gone */
    ck_assert_int_eq(state_num("servers"), 4);
    cb_instance_list_free(&all);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(all.n, 4);
    ck_assert_ptr_null(strstr(logs.buf, PASSWORD));
    ck_assert_int_eq(state_num("tokens_issued"), 1);
    cb_instance_list_free(&all);
    cb_instance_list_free(&one);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(boot_is_idempotent_per_batch)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    ck_assert_ptr_nonnull(st);
    struct cb_instance_list a = { 0 }, b = { 0 };
    struct cb_boot_spec s = spec("same-batch", 4);
    ck_assert_int_eq(mod.ops->boot(st, &s, &a, &err), 0);
    ck_assert_int_eq(mod.ops->boot(st, &s, &b, &err), 0);
    ck_assert_uint_eq(a.n, 4);
    ck_assert_uint_eq(b.n, 4);
    ck_assert_int_eq(state_num("servers"), 4);
    ck_assert_int_eq(state_num("posts"), 1);
    cb_instance_list_free(&a);
    cb_instance_list_free(&b);
    mod.ops->fini(st);
}
END_TEST

START_TEST(lost_create_reply_found_in_same_call)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    ck_assert_ptr_nonnull(st);
    fault("[{\"method\": \"POST\", \"path_re\": \"/servers$\", \"when\": \"after\", \"drop\": true}]");
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("lost-1", 3);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 3);
    ck_assert_int_eq(state_num("servers"), 3);
    ck_assert_int_eq(state_num("posts"), 1);
    ck_assert_ptr_nonnull(strstr(logs.buf, "was lost"));
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(lost_create_reply_retry_does_not_boot_twice)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    ck_assert_ptr_nonnull(st);
    /* The reply is lost AND the follow-up listing fails: the call reports a
     * transient error; the caller's retry must find the servers, not boot. */
    fault("[{\"method\": \"POST\", \"path_re\": \"/servers$\", \"when\": \"after\", \"drop\": true},"
          " {\"method\": \"GET\", \"path_re\": \"/servers/detail$\", \"skip\": 1, \"status\": 503,"
          "  \"body\": \"<html>Service Unavailable</html>\"}]");
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("lost-2", 3);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert(cb_err_is_retryable(err.code));
    ck_assert_uint_eq(out.n, 0);
    ck_assert_int_eq(state_num("servers"), 3);
    cb_err_clear(&err);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 3);
    ck_assert_int_eq(state_num("servers"), 3);
    ck_assert_int_eq(state_num("posts"), 1);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(list_paginates_and_filters)
{
    struct cb_err err = CB_ERR_INIT;
    json_object_put(ctl("POST", "/_fake/seed", "{\"count\": 2500, \"name\": \"t2pool--seed\", "
                        "\"metadata\": {\"cloudburst-pool\": \"t2pool\", \"cloudburst-batch\": \"seed\"}}"));
    json_object_put(ctl("POST", "/_fake/seed", "{\"count\": 7, \"name\": \"otherpool--x\", "
                        "\"metadata\": {\"cloudburst-pool\": \"otherpool\", \"cloudburst-batch\": \"x\"}}"));
    json_object_put(ctl("POST", "/_fake/seed", "{\"count\": 1, \"name\": \"t2pool--untagged\"}"));
    json_object_put(ctl("POST", "/_fake/seed", "{\"count\": 1, \"name\": \"t2pool--b9\", \"status\": \"ERROR\", "
                        "\"metadata\": {\"cloudburst-pool\": \"t2pool\", \"cloudburst-batch\": \"b9\"}}"));
    void *st = driver(30000, &err);
    ck_assert_ptr_nonnull(st);
    struct cb_instance_list all = { 0 };
    ck_assert_msg(mod.ops->list(st, &all, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(all.n, 2501);
    ck_assert_int_eq(request_count("GET /compute/v2.1/servers/detail"), 3);
    ck_assert_str_eq(all.items[0].node_id, "seed-0");
    ck_assert_str_eq(all.items[2499].node_id, "seed-2499");
    ck_assert_int_eq(all.items[2500].state, CB_INSTANCE_ERROR);
    cb_instance_list_free(&all);
    mod.ops->fini(st);

    /* Smaller pages, same answer. */
    set("page_size", CB_SETTING_INT, NULL, 300);
    st = driver(30000, &err);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_uint_eq(all.n, 2501);
    ck_assert_int_eq(request_count("GET /compute/v2.1/servers/detail"), 3 + 9);
    cb_instance_list_free(&all);
    mod.ops->fini(st);
}
END_TEST

START_TEST(token_refreshed_before_expiry)
{
    struct cb_err err = CB_ERR_INIT;
    config("{\"token_lifetime\": 4}");
    set("token_refresh_margin", CB_SETTING_INT, NULL, 2);
    void *st = driver(20000, &err);
    struct cb_instance_list all = { 0 };
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_int_eq(state_num("tokens_issued"), 1); /* still fresh: cached */
    struct timespec ts = { 2, 200 * 1000 * 1000 };
    nanosleep(&ts, NULL); /* now within the margin of its expiry */
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_int_eq(state_num("tokens_issued"), 2);
    ck_assert_int_eq(state_num("unauthorized"), 0); /* renewed before, not after, a 401 */
    cb_instance_list_free(&all);
    mod.ops->fini(st);
}
END_TEST

START_TEST(token_refreshed_once_on_401)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    struct cb_instance_list all = { 0 };
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    json_object_put(ctl("POST", "/_fake/expire_tokens", "{}"));
    ck_assert_msg(mod.ops->list(st, &all, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(state_num("unauthorized"), 1);
    ck_assert_int_eq(state_num("tokens_issued"), 2);

    /* Revoked and the password changed: 401 after the refresh is an auth error. */
    config("{\"password\": \"rotated\"}");
    json_object_put(ctl("POST", "/_fake/expire_tokens", "{}"));
    ck_assert_int_eq(mod.ops->list(st, &all, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "401"));
    ck_assert_ptr_null(strstr(err.msg, PASSWORD));
    ck_assert_ptr_null(strstr(logs.buf, PASSWORD));
    cb_instance_list_free(&all);
    mod.ops->fini(st);
}
END_TEST

START_TEST(application_credential_and_region)
{
    struct cb_err err = CB_ERR_INIT;
    set("auth_method", CB_SETTING_STRING, "application_credential", 0);
    set("application_credential_id", CB_SETTING_STRING, "423f19a4ac1e4f48bbb4180756e6eb6c", 0);
    set("application_credential_secret_file", CB_SETTING_SECRET_FILE, PASSWORD, 0);
    set("region", CB_SETTING_STRING, "RegionTwo", 0);
    void *st = driver(20000, &err);
    ck_assert_ptr_nonnull(st);
    struct cb_instance_list all = { 0 };
    ck_assert_msg(mod.ops->list(st, &all, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(request_count("GET /compute-two/v2.1/servers/detail"), 1);
    mod.ops->fini(st);

    set("application_credential_secret_file", CB_SETTING_SECRET_FILE, "wrong", 0);
    st = driver(20000, &err);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert_str_eq(err.origin, "openstack:keystone");
    ck_assert_ptr_nonnull(strstr(err.msg, "requires authentication"));
    cb_err_clear(&err);
    mod.ops->fini(st);

    set("application_credential_secret_file", CB_SETTING_SECRET_FILE, PASSWORD, 0);
    set("region", CB_SETTING_STRING, "RegionNine", 0);
    st = driver(20000, &err);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "RegionNine"));
    cb_instance_list_free(&all);
    mod.ops->fini(st);
}
END_TEST

START_TEST(quota_maps_to_quota)
{
    struct cb_err err = CB_ERR_INIT;
    config("{\"quota_instances\": 3}");
    void *st = driver(20000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("q-1", 5);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 3); /* min_count 1: Nova boots what fits */
    s = spec("q-2", 2);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "Quota exceeded"));
    ck_assert_uint_eq(out.n, 3);
    cb_err_clear(&err);
    fault("[{\"method\": \"POST\", \"path_re\": \"/servers$\", \"status\": 413, "
          "\"fixture\": \"authored/quota-exceeded-413.json\"}]");
    s = spec("q-3", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(errors_classified)
{
    static const struct {
        const char *fault;
        enum cb_errcode code;
    } cases[] = {
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 500, \"body\": "
          "{\"computeFault\": {\"message\": \"boom\", \"code\": 500}}}]", CB_ERR_TRANSIENT },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 409, \"fixture\": "
          "\"authored/conflict-409.json\"}]", CB_ERR_TRANSIENT },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 400, \"body\": "
          "{\"badRequest\": {\"message\": \"bad\", \"code\": 400}}}]", CB_ERR_PERMANENT },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 403, \"body\": "
          "{\"forbidden\": {\"message\": \"Policy doesn't allow\", \"code\": 403}}}]", CB_ERR_AUTH },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 404, \"fixture\": "
          "\"libcloud/_os_keypairs_not_found.json\"}]", CB_ERR_NOT_FOUND },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 200, \"fixture\": "
          "\"authored/servers-truncated.json\"}]", CB_ERR_INVALID },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 200, \"fixture\": "
          "\"authored/server-without-id.json\"}]", CB_ERR_INVALID },
        /* Twice: libcurl itself retries once when a reused connection drops. */
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"drop\": true, \"times\": 2}]",
          CB_ERR_TRANSIENT },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"delay\": 3, \"status\": 200, "
          "\"body\": {\"servers\": []}}]", CB_ERR_TIMEOUT },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 503, \"body\": "
          "\"<html><body>503 Service Unavailable</body></html>\"}]", CB_ERR_TRANSIENT },
        /* A next link that repeats its marker would page forever. */
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 200, \"times\": 5, "
          "\"body\": {\"servers\": [{\"id\": \"m1\", \"status\": \"ACTIVE\"}], \"servers_links\": "
          "[{\"rel\": \"next\", \"href\": \"http://127.0.0.1/v2.1/servers/detail?limit=1&marker=m1\"}]}}]",
          CB_ERR_INVALID },
        /* An old Nova's rate limit: 413 without the word quota. */
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 413, \"times\": 9, "
          "\"headers\": {\"Retry-After\": \"0\"}, \"body\": {\"overLimit\": {\"message\": "
          "\"This request was rate-limited.\", \"code\": 413}}}]", CB_ERR_THROTTLED },
        { "[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 429, \"times\": 9, "
          "\"headers\": {\"Retry-After\": \"0\"}, \"fixture\": \"authored/rate-limit-429.json\"}]",
          CB_ERR_THROTTLED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cb_err err = CB_ERR_INIT;
        void *st = driver(1500, &err);
        json_object_put(ctl("POST", "/_fake/reset", "{}"));
        fault(cases[i].fault);
        struct cb_instance_list all = { 0 };
        ck_assert_msg(mod.ops->list(st, &all, &err) == -1, "case %zu: list succeeded", i);
        ck_assert_msg(err.code == cases[i].code, "case %zu: got %s (%s: %s)", i,
                      cb_errcode_name(err.code), err.origin, err.msg);
        ck_assert_uint_eq(all.n, 0);
        mod.ops->fini(st);
    }
}
END_TEST

START_TEST(throttled_then_succeeds_within_call)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    fault("[{\"method\": \"GET\", \"path_re\": \"detail\", \"status\": 429, \"times\": 2, "
          "\"headers\": {\"Retry-After\": \"0\"}, \"fixture\": \"authored/rate-limit-429.json\"}]");
    struct cb_instance_list all = { 0 };
    ck_assert_msg(mod.ops->list(st, &all, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(request_count("GET /compute/v2.1/servers/detail"), 3);
    mod.ops->fini(st);
}
END_TEST

START_TEST(terminate_reports_failures_per_id)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("t-1", 2);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    fault("[{\"method\": \"DELETE\", \"path_re\": \"/servers/\", \"status\": 409, "
          "\"fixture\": \"authored/conflict-409.json\"}]");
    const char *ids[2] = { out.items[0].id, out.items[1].id };
    bool failed[2];
    ck_assert_int_eq(mod.ops->terminate(st, ids, 2, failed, &err), -1);
    ck_assert(failed[0]);
    ck_assert(!failed[1]);
    ck_assert_int_eq(err.code, CB_ERR_TRANSIENT);
    ck_assert_ptr_nonnull(strstr(err.msg, "task_state"));
    ck_assert_int_eq(state_num("servers"), 1);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(microversion_rejected_or_ignored)
{
    struct cb_err err = CB_ERR_INIT;
    config("{\"microversion_mode\": \"reject\"}");
    void *st = driver(20000, &err);
    struct cb_instance_list all = { 0 };
    ck_assert_msg(mod.ops->list(st, &all, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(strstr(logs.buf, "refused microversion"));
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0); /* header no longer sent */
    ck_assert_int_eq(request_count("GET /compute/v2.1/servers/detail"), 3);
    mod.ops->fini(st);
    config("{\"microversion_mode\": \"ignore\"}");
    st = driver(20000, &err);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    ck_assert_ptr_nonnull(strstr(logs.buf, "ignores the microversion"));
    mod.ops->fini(st);
}
END_TEST

START_TEST(boot_rejects_bad_spec_and_unknown_refs)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("bad id!", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    s = spec("ok", 1);
    s.spot = true;
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_PERMANENT);
    cb_err_clear(&err);
    s = spec("ok", 1);
    s.flavor = "m9.enormous";
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "m9.enormous"));
    cb_err_clear(&err);
    s = spec("ok", 1);
    s.image = "hypernode"; /* two Glance images carry that name */
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_int_eq(state_num("posts"), 0);
    ck_assert_uint_eq(out.n, 0);
    mod.ops->fini(st);
}
END_TEST

START_TEST(endpoint_override_project_id_and_compute_images)
{
    struct cb_err err = CB_ERR_INIT;
    char override[128];
    config("{\"catalog_image\": false}");
    snprintf(override, sizeof override, "http://127.0.0.1:%d/compute-two/v2.1/", fk.port);
    set("compute_endpoint", CB_SETTING_STRING, override, 0);
    set("project_id", CB_SETTING_STRING, "9c4693dce56b493b9b83197d900f7fba", 0);
    set("project_name", CB_SETTING_STRING, "not-this-one", 0);
    void *st = driver(20000, &err);
    ck_assert_ptr_nonnull(st);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("ov-1", 2);
    ck_assert_msg(mod.ops->boot(st, &s, &out, &err) == 0, "%s: %s", err.origin, err.msg);
    ck_assert_uint_eq(out.n, 2);
    /* No image service in the catalog: the name is resolved through Nova. */
    ck_assert_int_eq(request_count("GET /compute-two/v2.1/images"), 1);
    ck_assert_int_eq(request_count("GET /image/v2/images"), 0);
    ck_assert_int_eq(request_count("POST /compute-two/v2.1/servers"), 1);
    ck_assert_int_eq(request_count("POST /compute/v2.1/servers"), 0);
    json_object *doc = ctl("GET", "/_fake/state", NULL), *lc, *srv, *v;
    ck_assert(json_object_object_get_ex(doc, "last_create", &lc));
    ck_assert(json_object_object_get_ex(lc, "server", &srv));
    ck_assert(json_object_object_get_ex(srv, "imageRef", &v));
    ck_assert_str_eq(json_object_get_string(v), "70a599e0-31e7-49b7-b260-868f441e862b");
    ck_assert(json_object_object_get_ex(srv, "networks", &v));
    ck_assert_str_eq(json_object_get_string(v), "auto"); /* 2.47 requires networks */
    json_object_put(doc);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(host_keys_from_console)
{
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    ck_assert(mod.ops->caps & CB_PROVIDER_CAP_CONSOLE_HOST_KEYS);
    struct cb_instance_list out = { 0 };
    struct cb_boot_spec s = spec("hk", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    char keys[2048];
    ck_assert_msg(cb_provider_host_keys(&mod, st, out.items[0].id, keys, sizeof keys, &err) == 0,
                  "%s: %s", err.origin, err.msg);
    ck_assert_ptr_nonnull(strstr(keys, "ssh-ed25519 "));
    ck_assert_ptr_nonnull(strstr(keys, "ecdsa-sha2-nistp256 "));
    ck_assert_int_eq(request_count("POST /compute/v2.1/servers/{id}/action"), 1);
    /* Still building: nothing printed yet. */
    config("{\"build_time\": 600}");
    struct cb_instance_list two = { 0 };
    s = spec("hk2", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &two, &err), 0);
    ck_assert_int_eq(mod.ops->host_keys(st, two.items[0].id, keys, sizeof keys, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    cb_err_clear(&err);
    ck_assert_int_eq(mod.ops->host_keys(st, "no-such-server", keys, sizeof keys, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "could not be found"));
    cb_instance_list_free(&two);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
}
END_TEST

START_TEST(world_pool_hooks_state_file_and_control)
{
    struct fake_world w;
    const char *extra[] = { "--build-time", "0.5", NULL };
    fake_server_stop(&fk);
    fake_check_start(&fk, "fake_openstack.py",
                     fake_world_prepare(&w, "198.18.0.21\n198.18.0.22\n", extra));
    base_settings();
    struct cb_err err = CB_ERR_INIT;
    void *st = driver(20000, &err);
    ck_assert_ptr_nonnull(st);

    /* Two addresses: Nova boots what fits, then refuses with its quota error. */
    struct cb_instance_list out = { 0 }, all = { 0 };
    struct cb_boot_spec s = spec("w-1", 3);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), 0);
    ck_assert_uint_eq(out.n, 2);
    s = spec("w-2", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "Quota exceeded"));
    cb_err_clear(&err);

    /* Still BUILD: no hook yet. Once ACTIVE, the listing that shows it comes
     * after the hook ran with the id and the pool's address. */
    ck_assert(!fake_check_hook_ran(w.files.dir, "boot", out.items[0].id, "198.18.0.21"));
    struct timespec ts = { 0, 600 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    ck_assert_int_eq(mod.ops->list(st, &all, &err), 0);
    for (size_t i = 0; i < all.n; i++)
        ck_assert_int_eq(all.items[i].state, CB_INSTANCE_RUNNING);
    fake_world_check_booted(&w, &all, (const char *const[]){ "198.18.0.21", "198.18.0.22", NULL });
    ck_assert_uint_eq(fake_check_state_file(w.state, &all), 2);

    /* Delete one: hook, address back in the pool, state file follows. */
    const char *ids[1] = { all.items[0].id };
    ck_assert_int_eq(mod.ops->terminate(st, ids, 1, NULL, &err), 0);
    ck_assert(fake_check_hook_ran(w.files.dir, "down", all.items[0].id, all.items[0].private_ip));
    ck_assert_int_eq(state_num("addresses_free"), 1);
    struct cb_instance_list now = { 0 };
    ck_assert_int_eq(mod.ops->list(st, &now, &err), 0);
    ck_assert_uint_eq(now.n, 1);
    ck_assert_uint_eq(fake_check_state_file(w.state, &now), 1);

    /* Faults at run time: two 429s are waited out inside the call, an API
     * error is transient, "quota" refuses boots only. */
    long long before = request_count("GET /compute/v2.1/servers/detail");
    fake_world_control(&w, "throttle 2\n");
    cb_instance_list_free(&now);
    ck_assert_msg(mod.ops->list(st, &now, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(request_count("GET /compute/v2.1/servers/detail"), before + 3);
    ck_assert_int_eq(fake_check_num(&fk, "faults_applied", "throttle"), 2);
    fake_world_control(&w, "error 1\n");
    cb_instance_list_free(&now);
    ck_assert_int_eq(mod.ops->list(st, &now, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_TRANSIENT);
    cb_err_clear(&err);
    fake_world_control(&w, "quota\n");
    struct cb_instance_list none = { 0 };
    s = spec("w-3", 1);
    ck_assert_int_eq(mod.ops->boot(st, &s, &none, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    cb_err_clear(&err);
    ck_assert_int_eq(mod.ops->list(st, &now, &err), 0);

    cb_instance_list_free(&now);
    cb_instance_list_free(&all);
    cb_instance_list_free(&out);
    mod.ops->fini(st);
    fake_world_done(&w);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("openstack");
    TCase *p = tcase_create("parsers");
    tcase_add_test(p, token_catalog_by_region_and_interface);
    tcase_add_test(p, servers_page_and_next_marker);
    tcase_add_test(p, servers_ours_with_index_state_and_addresses);
    tcase_add_test(p, servers_malformed_named_clearly);
    tcase_add_test(p, refs_create_and_faults);
    tcase_add_test(p, status_and_time_mapping);
    tcase_add_test(p, console_host_keys);
    suite_add_tcase(s, p);

    TCase *d = tcase_create("driver");
    tcase_add_checked_fixture(d, setup, teardown);
    tcase_set_timeout(d, 120);
    tcase_add_test(d, loads_with_settings_spec);
    tcase_add_test(d, world_pool_hooks_state_file_and_control);
    tcase_add_test(d, init_rejects_bad_settings_by_name);
    tcase_add_test(d, boot_list_terminate_lifecycle);
    tcase_add_test(d, boot_is_idempotent_per_batch);
    tcase_add_test(d, lost_create_reply_found_in_same_call);
    tcase_add_test(d, lost_create_reply_retry_does_not_boot_twice);
    tcase_add_test(d, list_paginates_and_filters);
    tcase_add_test(d, token_refreshed_before_expiry);
    tcase_add_test(d, token_refreshed_once_on_401);
    tcase_add_test(d, application_credential_and_region);
    tcase_add_test(d, quota_maps_to_quota);
    tcase_add_test(d, errors_classified);
    tcase_add_test(d, throttled_then_succeeds_within_call);
    tcase_add_test(d, terminate_reports_failures_per_id);
    tcase_add_test(d, microversion_rejected_or_ignored);
    tcase_add_test(d, boot_rejects_bad_spec_and_unknown_refs);
    tcase_add_test(d, endpoint_override_project_id_and_compute_images);
    tcase_add_test(d, host_keys_from_console);
    suite_add_tcase(s, d);
    return s;
}

int main(void)
{
    return check_run(suite());
}
