/* test_ec2: the EC2 driver, loaded with cb_provider_load from the build tree,
 * against the stateful fake (tests/fake/fake_ec2.py) that verifies SigV4.
 * Every test starts its own fake, so state and faults never leak between
 * tests. Covers boot/list/terminate, idempotency after a lost response,
 * pagination, every error mapping, the credential sources and malformed
 * replies. */
#include "fake_check.h"
#include "test_ec2_fake.h"

#include <check.h>

struct env {
    struct ec2_fake fake;
    struct cb_provider_module mod;
    struct ec2_test_settings ts;
    void *state;
    unsigned call_timeout_ms;
};

static const char plain_creds[] = FAKE_KEY_ID "\n" FAKE_SECRET "\n";

/* Start a fake and prepare settings; the driver is not initialised yet. */
static void env_prepare(struct env *e, const char *const *fake_args)
{
    memset(e, 0, sizeof *e);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    ck_assert_msg(ec2_fake_start(&e->fake, fake_args) == 0, "fake_ec2.py did not start");
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(ec2_load_module(&e->mod, &err) == 0, "%s: %s", err.origin, err.msg);
    ets_init(&e->ts);
    ets_str(&e->ts, "region", "us-east-1");
    ets_str(&e->ts, "endpoint", e->fake.url);
    ets_secret(&e->ts, "credentials_file", plain_creds);
    e->call_timeout_ms = 20000;
}

static int env_init(struct env *e, struct cb_err *err)
{
    struct cb_provider_init args = { .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "aws-test",
                                     .pool_name = "testpool", .settings = &e->ts.s,
                                     .connect_timeout_ms = 5000,
                                     .call_timeout_ms = e->call_timeout_ms,
                                     .log = ec2_quiet_log };
    return e->mod.ops->init(&e->state, &args, err);
}

static void env_start(struct env *e, const char *const *fake_args)
{
    env_prepare(e, fake_args);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(e, &err) == 0, "init: %s: %s", err.origin, err.msg);
}

static void env_stop(struct env *e)
{
    if (e->state != NULL)
        e->mod.ops->fini(e->state);
    e->state = NULL;
    if (e->mod.ops != NULL)
        cb_provider_unload(&e->mod);
    ec2_fake_stop(&e->fake);
}

static int boot(struct env *e, const char *batch, unsigned k, struct cb_instance_list *out,
                struct cb_err *err)
{
    struct cb_boot_spec spec = { .batch_id = batch, .count = k, .flavor = "m5.large",
                                 .image = "ami-0abcdef1234567890" };
    return e->mod.ops->boot(e->state, &spec, out, err);
}

static const char *last_param(json_object *st, const char *name)
{
    json_object *lp, *v;
    if (!json_object_object_get_ex(st, "last_params", &lp) ||
        !json_object_object_get_ex(lp, name, &v))
        return NULL;
    return json_object_get_string(v);
}

/* ---- tests ------------------------------------------------------------------ */

START_TEST(test_module_identity)
{
    struct cb_provider_module m;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(ec2_load_module(&m, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(m.ops->name, "ec2");
    ck_assert_int_eq(m.ops->abi_version, CB_PROVIDER_ABI_VERSION);
    ck_assert_uint_eq(m.ops->caps, CB_PROVIDER_CAP_BATCH_BOOT | CB_PROVIDER_CAP_CLIENT_TOKEN |
                                       CB_PROVIDER_CAP_SPOT | CB_PROVIDER_CAP_SHUTDOWN_TERMINATES);
    const char *want[] = { "region", "endpoint", "credentials_file", "use_imds", "subnet_id",
                           "security_group_ids", "key_name", "instance_profile", "api_version" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        bool found = false;
        for (const struct cb_setting_spec *s = m.ops->settings; s->name != NULL; s++)
            if (strcmp(s->name, want[i]) == 0) {
                found = true;
                ck_assert_ptr_nonnull(s->doc);
                if (strcmp(want[i], "credentials_file") == 0)
                    ck_assert_int_eq(s->type, CB_SETTING_SECRET_FILE);
                if (strcmp(want[i], "security_group_ids") == 0)
                    ck_assert_int_eq(s->type, CB_SETTING_STRING_LIST);
            }
        ck_assert_msg(found, "setting %s missing", want[i]);
    }
    ck_assert_ptr_null(m.ops->host_keys);
    char buf[16];
    ck_assert_int_eq(cb_provider_host_keys(&m, NULL, "i-1", buf, sizeof buf, &err), -1);
    cb_provider_unload(&m);
}
END_TEST

START_TEST(test_lifecycle)
{
    struct env e;
    env_prepare(&e, (const char *const[]){ "--pending-describes", "2", NULL });
    ets_str(&e.ts, "key_name", "site-key");
    ets_str(&e.ts, "subnet_id", "subnet-5fd9d412");
    ets_str(&e.ts, "instance_profile", "cloudburst-node");
    e.ts.list[0] = "sg-ef052b86";
    e.ts.list[1] = "sg-00000002";
    struct cb_setting *sg = ets_add(&e.ts, "security_group_ids", CB_SETTING_STRING_LIST);
    sg->list = e.ts.list;
    sg->list_len = 2;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);

    static const char ud[] = "#!/bin/sh\necho cloudburst\n";
    struct cb_boot_spec spec = { .batch_id = "b-20261122-0001", .count = 3, .flavor = "m5.large",
                                 .image = "ami-0abcdef1234567890", .user_data = ud,
                                 .user_data_len = sizeof ud - 1, .terminate_on_shutdown = true };
    struct cb_instance_list out = { 0 };
    ck_assert_msg(e.mod.ops->boot(e.state, &spec, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 3);
    for (size_t i = 0; i < 3; i++) {
        char nid[64];
        snprintf(nid, sizeof nid, "b-20261122-0001-%zu", i);
        ck_assert_str_eq(out.items[i].node_id, nid);
        ck_assert_str_eq(out.items[i].batch_id, "b-20261122-0001");
        ck_assert_int_eq(out.items[i].state, CB_INSTANCE_PENDING);
        ck_assert_str_eq(out.items[i].flavor, "m5.large");
        ck_assert_int_eq(strncmp(out.items[i].id, "i-", 2), 0);
        ck_assert_int_gt(out.items[i].launch_time, 1700000000);
    }

    /* what went over the wire */
    json_object *st = ec2_fake_state(&e.fake);
    ck_assert_ptr_nonnull(st);
    ck_assert_str_eq(last_param(st, "MinCount"), "1");
    ck_assert_str_eq(last_param(st, "MaxCount"), "3");
    ck_assert_str_eq(last_param(st, "ClientToken"), "b-20261122-0001");
    ck_assert_str_eq(last_param(st, "InstanceType"), "m5.large");
    ck_assert_str_eq(last_param(st, "UserData"), "IyEvYmluL3NoCmVjaG8gY2xvdWRidXJzdAo=");
    ck_assert_str_eq(last_param(st, "InstanceInitiatedShutdownBehavior"), "terminate");
    ck_assert_str_eq(last_param(st, "KeyName"), "site-key");
    ck_assert_str_eq(last_param(st, "SubnetId"), "subnet-5fd9d412");
    ck_assert_str_eq(last_param(st, "SecurityGroupId.1"), "sg-ef052b86");
    ck_assert_str_eq(last_param(st, "SecurityGroupId.2"), "sg-00000002");
    ck_assert_str_eq(last_param(st, "IamInstanceProfile.Name"), "cloudburst-node");
    ck_assert_str_eq(last_param(st, "TagSpecification.1.ResourceType"), "instance");
    ck_assert_str_eq(last_param(st, "TagSpecification.1.Tag.1.Key"), "cloudburst-pool");
    ck_assert_str_eq(last_param(st, "TagSpecification.1.Tag.1.Value"), "testpool");
    ck_assert_str_eq(last_param(st, "TagSpecification.1.Tag.2.Key"), "cloudburst-batch");
    ck_assert_ptr_null(last_param(st, "InstanceMarketOptions.MarketType"));
    json_object_put(st);

    /* first listing: still pending; second: running with a 127/8 address */
    struct cb_instance_list l = { 0 };
    ck_assert_msg(e.mod.ops->list(e.state, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(l.items[0].state, CB_INSTANCE_PENDING);
    cb_instance_list_free(&l);
    ck_assert_msg(e.mod.ops->list(e.state, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n, 3);
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(l.items[i].state, CB_INSTANCE_RUNNING);
        ck_assert_int_eq(strncmp(l.items[i].private_ip, "127.", 4), 0);
        ck_assert_str_eq(l.items[i].batch_id, "b-20261122-0001");
        ck_assert_str_eq(l.items[i].id, out.items[i].id);
        ck_assert_str_eq(l.items[i].node_id, out.items[i].node_id);
    }
    cb_instance_list_free(&l);

    /* terminate all: shutting-down (stopping) then terminated, then gone */
    const char *ids[3] = { out.items[0].id, out.items[1].id, out.items[2].id };
    bool failed[3] = { true, true, true };
    ck_assert_msg(e.mod.ops->terminate(e.state, ids, 3, failed, &err) == 0, "%s", err.msg);
    ck_assert(!failed[0] && !failed[1] && !failed[2]);
    ck_assert_msg(e.mod.ops->list(e.state, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_int_eq(l.items[0].state, CB_INSTANCE_TERMINATED);
    ck_assert_ptr_nonnull(strstr(l.items[0].state_reason, "User initiated"));
    cb_instance_list_free(&l);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(e.mod.ops->list(e.state, &l, &err) == 0, "%s", err.msg);
        cb_instance_list_free(&l);
    }
    ck_assert_msg(e.mod.ops->list(e.state, &l, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(l.n, 0);
    cb_instance_list_free(&l);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "auth_failures", NULL), 0);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_idempotent_boot)
{
    struct env e;
    env_start(&e, NULL);
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list a = { 0 }, b = { 0 };
    ck_assert_msg(boot(&e, "batch-idem", 4, &a, &err) == 0, "%s", err.msg);
    ck_assert_msg(boot(&e, "batch-idem", 4, &b, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(a.n, 4);
    ck_assert_uint_eq(b.n, 4);
    for (size_t i = 0; i < 4; i++)
        ck_assert_str_eq(a.items[i].id, b.items[i].id);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "created", NULL), 4);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "RunInstances"), 2);
    cb_instance_list_free(&a);
    cb_instance_list_free(&b);
    env_stop(&e);
}
END_TEST

START_TEST(test_lost_response_does_not_boot_twice)
{
    struct env e;
    env_start(&e, NULL);
    /* the fake boots, then drops the connection without answering */
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"RunInstances\", "
                                                "\"kind\": \"drop_after\", \"times\": 1}}"),
                     0);
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list a = { 0 };
    ck_assert_msg(boot(&e, "batch-lost", 5, &a, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(a.n, 5);
    /* two RunInstances reached the cloud, one set of instances exists */
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "RunInstances"), 2);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "created", NULL), 5);
    /* and the core's own retry of the batch returns the same instances */
    struct cb_instance_list b = { 0 };
    ck_assert_msg(boot(&e, "batch-lost", 5, &b, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(a.items[4].id, b.items[4].id);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "created", NULL), 5);
    cb_instance_list_free(&a);
    cb_instance_list_free(&b);
    env_stop(&e);
}
END_TEST

/* A fault answered with `code` must map to `want` (and, for non-retryable
 * classes, be sent exactly once). */
static void check_error_mapping(const char *code, int status, enum cb_errcode want,
                                long want_calls)
{
    struct env e;
    env_prepare(&e, NULL);
    e.call_timeout_ms = 1500;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    char ctl[256];
    snprintf(ctl, sizeof ctl,
             "{\"fault\": {\"action\": \"RunInstances\", \"code\": \"%s\", \"status\": %d, "
             "\"times\": 1000}}",
             code, status);
    ck_assert_int_eq(ec2_fake_control(&e.fake, ctl), 0);
    struct cb_instance_list out = { 0 };
    ck_assert_int_eq(boot(&e, "batch-err", 2, &out, &err), -1);
    ck_assert_msg(err.code == want, "%s: got %s (%s), want %s", code, cb_errcode_name(err.code),
                  err.msg, cb_errcode_name(want));
    ck_assert_msg(strstr(err.msg, code) != NULL, "message '%s' does not name %s", err.msg, code);
    ck_assert_str_eq(err.origin, "ec2:RunInstances");
    ck_assert_uint_eq(out.n, 0);
    long calls = ec2_fake_state_int(&e.fake, "calls", "RunInstances");
    if (want_calls > 0)
        ck_assert_int_eq(calls, want_calls);
    else
        ck_assert_int_gt(calls, 1); /* retried until the deadline */
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "created", NULL), 0);
    env_stop(&e);
}

START_TEST(test_error_quota)
{
    check_error_mapping("InsufficientInstanceCapacity", 500, CB_ERR_QUOTA, 1);
    check_error_mapping("InstanceLimitExceeded", 400, CB_ERR_QUOTA, 1);
    check_error_mapping("VcpuLimitExceeded", 400, CB_ERR_QUOTA, 1);
}
END_TEST

START_TEST(test_error_auth)
{
    check_error_mapping("AuthFailure", 401, CB_ERR_AUTH, 1);
    check_error_mapping("UnauthorizedOperation", 403, CB_ERR_AUTH, 1);
    check_error_mapping("SignatureDoesNotMatch", 403, CB_ERR_AUTH, 1);
}
END_TEST

START_TEST(test_error_permanent_and_transient)
{
    check_error_mapping("InvalidAMIID.NotFound", 400, CB_ERR_PERMANENT, 1);
    check_error_mapping("InternalError", 500, CB_ERR_TRANSIENT, 0);
    check_error_mapping("RequestLimitExceeded", 503, CB_ERR_THROTTLED, 0);
}
END_TEST

START_TEST(test_capacity_from_state)
{
    /* no injected fault: the fake's own capacity runs out */
    struct env e;
    env_start(&e, (const char *const[]){ "--capacity", "3", NULL });
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-cap1", 2, &out, &err) == 0, "%s", err.msg);
    /* MinCount=1: of 5 asked, the one that fits is booted */
    ck_assert_msg(boot(&e, "batch-cap2", 5, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 3);
    ck_assert_int_eq(boot(&e, "batch-cap3", 1, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_world_pool_hooks_state_file_and_control)
{
    struct fake_world w;
    const char *extra[] = { "--pending-describes", "1", "--fault", "throttle 1", NULL };
    struct env e;
    env_start(&e, fake_world_prepare(&w, "198.18.1.5\n198.18.1.6\n", extra));
    struct cb_err err = CB_ERR_INIT;

    /* --fault throttle 1: the first RunInstances is throttled and retried.
     * Two addresses: MinCount 1 boots the two that fit, then capacity. */
    struct cb_instance_list out = { 0 }, all = { 0 };
    ck_assert_msg(boot(&e, "batch-w1", 3, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "faults_applied", "throttle"), 1);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "RunInstances"), 2);
    ck_assert_int_eq(boot(&e, "batch-w2", 1, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "InsufficientInstanceCapacity"));
    cb_err_clear(&err);
    ck_assert(!fake_check_hook_ran(w.files.dir, "boot", out.items[0].id, "198.18.1.5"));

    /* The listing that moves them to running comes after their hooks ran. */
    ck_assert_msg(e.mod.ops->list(e.state, &all, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < all.n; i++)
        ck_assert_int_eq(all.items[i].state, CB_INSTANCE_RUNNING);
    fake_world_check_booted(&w, &all, (const char *const[]){ "198.18.1.5", "198.18.1.6", NULL });
    ck_assert_uint_eq(fake_check_state_file(w.state, &all), 2);

    /* Terminate one: hook with its address, the address is free again, and
     * the state file no longer has it (the listing still shows it going). */
    const char *ids[1] = { all.items[0].id };
    ck_assert_int_eq(e.mod.ops->terminate(e.state, ids, 1, NULL, &err), 0);
    ck_assert(fake_check_hook_ran(w.files.dir, "down", all.items[0].id, all.items[0].private_ip));
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "addresses_free", NULL), 1);
    struct cb_instance_list now = { 0 };
    ck_assert_int_eq(e.mod.ops->list(e.state, &now, &err), 0);
    ck_assert_uint_eq(fake_check_state_file(w.state, &now), 1);

    /* Run-time faults through the control file. */
    fake_world_control(&w, "throttle 2\n");
    cb_instance_list_free(&now);
    ck_assert_msg(e.mod.ops->list(e.state, &now, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "faults_applied", "throttle"), 3);
    fake_world_control(&w, "quota\n");
    struct cb_instance_list none = { 0 };
    ck_assert_int_eq(boot(&e, "batch-w3", 1, &none, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_QUOTA);
    ck_assert_ptr_nonnull(strstr(err.msg, "InstanceLimitExceeded"));
    ck_assert_uint_eq(none.n, 0);

    cb_instance_list_free(&now);
    cb_instance_list_free(&all);
    cb_instance_list_free(&out);
    env_stop(&e);
    fake_world_done(&w);
}
END_TEST

START_TEST(test_throttle_then_success)
{
    struct env e;
    env_start(&e, NULL);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"DescribeInstances\", "
                                                "\"code\": \"RequestLimitExceeded\", "
                                                "\"status\": 503, \"times\": 3}}"),
                     0);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"RunInstances\", "
                                                "\"kind\": \"status\", \"status\": 502, "
                                                "\"body\": \"Bad Gateway\", \"times\": 2}}"),
                     0);
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-thr", 2, &out, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "RunInstances"), 3);
    cb_instance_list_free(&out);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 2);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "DescribeInstances"), 4);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_wrong_secret_is_auth_without_retry)
{
    struct env e;
    env_prepare(&e, NULL);
    ets_secret(&e.ts, "credentials_file", FAKE_KEY_ID "\nnot-the-right-secret\n");
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    struct cb_instance_list out = { 0 };
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "SignatureDoesNotMatch"));
    ck_assert_ptr_null(strstr(err.msg, "not-the-right-secret"));
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "DescribeInstances"), 1);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "auth_failures", NULL), 1);
    env_stop(&e);

    /* an access key the cloud does not know: the recorded AuthFailure */
    env_prepare(&e, NULL);
    ets_secret(&e.ts, "credentials_file", "AKIDUNKNOWNKEY\n" FAKE_SECRET "\n");
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    cb_err_clear(&err);
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "AuthFailure"));
    env_stop(&e);
}
END_TEST

START_TEST(test_pagination_and_tag_filter)
{
    struct env e;
    env_prepare(&e, NULL);
    ets_int(&e.ts, "page_size", 5);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-pa", 13, &out, &err) == 0, "%s", err.msg);
    ck_assert_msg(boot(&e, "batch-pb", 10, &out, &err) == 0, "%s", err.msg);
    cb_instance_list_free(&out);
    /* another controller's instance and an untagged one must not be listed */
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"add_instance\": {\"tags\": "
                                                "{\"cloudburst-pool\": \"otherpool\"}}}"),
                     0);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"add_instance\": {}}"), 0);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 23);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "DescribeInstances"), 5);
    size_t in_a = 0;
    for (size_t i = 0; i < out.n; i++) {
        in_a += strcmp(out.items[i].batch_id, "batch-pa") == 0;
        for (size_t j = i + 1; j < out.n; j++)
            ck_assert_str_ne(out.items[i].id, out.items[j].id);
    }
    ck_assert_uint_eq(in_a, 13);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_terminate_batches_and_not_found)
{
    struct env e;
    env_prepare(&e, NULL);
    ets_int(&e.ts, "terminate_batch", 2);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-term", 4, &out, &err) == 0, "%s", err.msg);
    /* unknown ids mixed in: already gone, success; the known ones terminate */
    const char *ids[6] = { out.items[0].id, "i-0000000000000dead", out.items[1].id,
                           out.items[2].id, "i-0000000000000beef", out.items[3].id };
    bool failed[6];
    ck_assert_msg(e.mod.ops->terminate(e.state, ids, 6, failed, &err) == 0, "%s", err.msg);
    for (int i = 0; i < 6; i++)
        ck_assert(!failed[i]);
    json_object *st = ec2_fake_state(&e.fake), *insts;
    ck_assert(json_object_object_get_ex(st, "instances", &insts));
    for (size_t i = 0; i < json_object_array_length(insts); i++) {
        json_object *s;
        json_object_object_get_ex(json_object_array_get_idx(insts, i), "state", &s);
        /* the lookups are listings too: the fake may already show terminated */
        const char *word = json_object_get_string(s);
        ck_assert_msg(strcmp(word, "shutting-down") == 0 || strcmp(word, "terminated") == 0,
                      "state %s", word);
    }
    json_object_put(st);
    /* three batches of two; the two with an unknown id were rejected
     * (NotFound), their known ids looked up and terminated again */
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "TerminateInstances"), 5);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "DescribeInstances"), 2);
    /* only unknown ids */
    const char *gone[1] = { "i-00000000000000abc" };
    ck_assert_int_eq(e.mod.ops->terminate(e.state, gone, 1, NULL, &err), 0);
    ec2_fake_stop(&e.fake);
    cb_instance_list_free(&out);
    e.mod.ops->fini(e.state);
    e.state = NULL;
    cb_provider_unload(&e.mod);

    /* 1,000 ids the cloud has never heard of: one rejected call, one lookup */
    env_prepare(&e, NULL);
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    static char many[1000][24];
    static const char *manyp[1000];
    static bool manyf[1000];
    for (int i = 0; i < 1000; i++) {
        snprintf(many[i], sizeof many[i], "i-%017x", 0xdead0000 + i);
        manyp[i] = many[i];
    }
    ck_assert_msg(e.mod.ops->terminate(e.state, manyp, 1000, manyf, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "TerminateInstances"), 1);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "DescribeInstances"), 1);
    ck_assert_msg(boot(&e, "batch-term2", 1, &out, &err) == 0, "%s", err.msg);
    /* a bad id is refused before any call */
    const char *bad[1] = { "i-1;DROP" };
    ck_assert_int_eq(e.mod.ops->terminate(e.state, bad, 1, failed, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert(failed[0]);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_terminate_error_marks_failed)
{
    struct env e;
    env_start(&e, NULL);
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-tf", 2, &out, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"TerminateInstances\", "
                                                "\"code\": \"UnauthorizedOperation\", "
                                                "\"status\": 403}}"),
                     0);
    const char *ids[2] = { out.items[0].id, out.items[1].id };
    bool failed[2] = { false, false };
    ck_assert_int_eq(e.mod.ops->terminate(e.state, ids, 2, failed, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert(failed[0] && failed[1]);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_malformed_replies)
{
    struct env e;
    env_start(&e, NULL);
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"DescribeInstances\", "
                                                "\"kind\": \"malformed\", \"body\": "
                                                "\"<DescribeInstancesResponse><reservationSet>"
                                                "<item>\"}}"),
                     0);
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "malformed XML"));

    cb_err_clear(&err);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"DescribeInstances\", "
                                                "\"kind\": \"malformed\", \"body\": "
                                                "\"<DescribeInstancesResponse><reservationSet>"
                                                "<item><instancesSet><item><imageId>ami-1"
                                                "</imageId></item></instancesSet></item>"
                                                "</reservationSet></DescribeInstancesResponse>\"}}"),
                     0);
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "<instanceId>"));

    cb_err_clear(&err);
    ck_assert_msg(boot(&e, "batch-mal", 2, &out, &err) == 0, "%s", err.msg);
    cb_instance_list_free(&out);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"DescribeInstances\", "
                                                "\"kind\": \"truncate\"}}"),
                     0);
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_uint_eq(out.n, 0);

    /* an error status whose body is not an error document */
    cb_err_clear(&err);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"DescribeInstances\", "
                                                "\"kind\": \"malformed\", \"status\": 400, "
                                                "\"body\": \"<html>\\u001b[31mno</html>\"}}"),
                     0);
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "HTTP 400"));
    ck_assert_ptr_null(strchr(err.msg, '\x1b'));
    /* the faults are used up: the same listing works again */
    cb_err_clear(&err);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 2);
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_spot_request)
{
    struct env e;
    env_prepare(&e, NULL);
    ets_str(&e.ts, "spot_max_price", "0.05");
    ets_str(&e.ts, "instance_profile", "arn:aws:iam::123456789012:instance-profile/cb");
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    struct cb_boot_spec spec = { .batch_id = "batch-spot", .count = 2, .flavor = "c5.xlarge",
                                 .image = "ami-1", .spot = true };
    struct cb_instance_list out = { 0 };
    ck_assert_msg(e.mod.ops->boot(e.state, &spec, &out, &err) == 0, "%s", err.msg);
    json_object *st = ec2_fake_state(&e.fake);
    ck_assert_str_eq(last_param(st, "InstanceMarketOptions.MarketType"), "spot");
    ck_assert_str_eq(last_param(st, "InstanceMarketOptions.SpotOptions.SpotInstanceType"),
                     "one-time");
    ck_assert_str_eq(last_param(st, "InstanceMarketOptions.SpotOptions.MaxPrice"), "0.05");
    ck_assert_str_eq(last_param(st, "IamInstanceProfile.Arn"),
                     "arn:aws:iam::123456789012:instance-profile/cb");
    ck_assert_ptr_null(last_param(st, "InstanceInitiatedShutdownBehavior"));
    ck_assert_ptr_null(last_param(st, "UserData"));
    json_object_put(st);
    ck_assert(!out.items[0].preempted);
    cb_instance_list_free(&out);

    /* EC2 reclaims the spot capacity: listed as preempted, with the reason */
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"interrupt_spot\": true}"), 0);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 2);
    for (size_t i = 0; i < out.n; i++) {
        ck_assert(out.items[i].preempted);
        ck_assert_int_eq(out.items[i].state, CB_INSTANCE_TERMINATED);
        ck_assert_ptr_nonnull(strstr(out.items[i].state_reason, "Spot instance termination"));
    }
    cb_instance_list_free(&out);
    env_stop(&e);
}
END_TEST

START_TEST(test_boot_spec_validation)
{
    struct env e;
    env_start(&e, NULL);
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };
    ck_assert_int_eq(boot(&e, "Bad_Batch", 1, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    cb_err_clear(&err);
    ck_assert_int_eq(boot(&e, "batch-ok", 0, &out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "count"));
    cb_err_clear(&err);
    ck_assert_int_eq(boot(&e, "batch-ok", 1001, &out, &err), -1);
    cb_err_clear(&err);
    static char big[20000];
    memset(big, 'x', sizeof big);
    struct cb_boot_spec spec = { .batch_id = "batch-ud", .count = 1, .flavor = "m5.large",
                                 .image = "ami-1", .user_data = big, .user_data_len = sizeof big };
    ck_assert_int_eq(e.mod.ops->boot(e.state, &spec, &out, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "user data"));
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "calls", "RunInstances"), 0);
    env_stop(&e);
}
END_TEST

START_TEST(test_credentials_env_and_ini)
{
    struct env e;
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 };

    /* environment */
    env_prepare(&e, NULL);
    ets_remove(&e.ts, "credentials_file");
    setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET, 1);
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    env_stop(&e);

    /* only one of the pair */
    env_prepare(&e, NULL);
    ets_remove(&e.ts, "credentials_file");
    setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID, 1);
    ck_assert_int_eq(env_init(&e, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.msg, "AWS_SECRET_ACCESS_KEY"));
    env_stop(&e);

    /* nothing at all */
    cb_err_clear(&err);
    env_prepare(&e, NULL);
    ets_remove(&e.ts, "credentials_file");
    ck_assert_int_eq(env_init(&e, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_AUTH);
    ck_assert_ptr_null(e.state);
    env_stop(&e);

    /* AWS shared-credentials INI with a named profile */
    env_prepare(&e, NULL);
    ets_secret(&e.ts, "credentials_file",
               "# cloudburst\n[default]\naws_access_key_id = AKIDWRONG\n"
               "aws_secret_access_key = wrong\n\n[profile burst]\n"
               "aws_access_key_id = " FAKE_KEY_ID "\naws_secret_access_key = " FAKE_SECRET
               "\nregion = us-east-1\n");
    ets_str(&e.ts, "profile", "burst");
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    env_stop(&e);

    /* a broken file names the setting and the line, never the secret */
    cb_err_clear(&err);
    env_prepare(&e, NULL);
    ets_secret(&e.ts, "credentials_file", "[default]\naws_access_key_id AKIDX\n");
    ck_assert_int_eq(env_init(&e, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.origin, "credentials_file"));
    ck_assert_ptr_nonnull(strstr(err.msg, "line 2"));
    ck_assert_ptr_null(strstr(err.msg, "AKIDX"));
    env_stop(&e);
    cb_instance_list_free(&out);
}
END_TEST

START_TEST(test_credentials_imds)
{
    struct env e;
    env_prepare(&e, NULL);
    ets_remove(&e.ts, "credentials_file");
    ets_bool(&e.ts, "use_imds", true);
    char imds[128];
    snprintf(imds, sizeof imds, "http://127.0.0.1:%d", e.fake.port);
    ets_str(&e.ts, "imds_endpoint", imds);
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "imds_issued", NULL), 1);
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-imds", 1, &out, &err) == 0, "%s", err.msg);
    cb_instance_list_free(&out);
    /* the role credentials expire: ExpiredToken, refresh from IMDS, retry */
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"expire_temporary\": true}"), 0);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(out.n, 1);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "imds_issued", NULL), 2);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "auth_failures", NULL), 1);
    cb_instance_list_free(&out);
    env_stop(&e);

    /* IMDS credentials that expire within the refresh margin are renewed before use */
    env_prepare(&e, (const char *const[]){ "--imds-expiry", "60", NULL });
    ets_remove(&e.ts, "credentials_file");
    ets_bool(&e.ts, "use_imds", true);
    snprintf(imds, sizeof imds, "http://127.0.0.1:%d/", e.fake.port);
    ets_str(&e.ts, "imds_endpoint", imds);
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "imds_issued", NULL), 2);
    ck_assert_int_eq(ec2_fake_state_int(&e.fake, "auth_failures", NULL), 0);
    env_stop(&e);

    /* no metadata service there */
    env_prepare(&e, NULL);
    ets_remove(&e.ts, "credentials_file");
    ets_bool(&e.ts, "use_imds", true);
    ets_str(&e.ts, "imds_endpoint", "http://127.0.0.1:9/");
    e.call_timeout_ms = 2000;
    cb_err_clear(&err);
    ck_assert_int_eq(env_init(&e, &err), -1);
    ck_assert_str_eq(err.origin, "ec2:imds");
    env_stop(&e);
}
END_TEST

START_TEST(test_bad_settings)
{
    struct env e;
    struct cb_err err = CB_ERR_INIT;
    env_prepare(&e, NULL);
    ets_str(&e.ts, "endpoint", "ftp://127.0.0.1/");
    ck_assert_int_eq(env_init(&e, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err.origin, "endpoint"));
    env_stop(&e);

    cb_err_clear(&err);
    env_prepare(&e, NULL);
    e.ts.s.file = "/etc/cloudburst/cloudburst.conf";
    ets_str(&e.ts, "region", "us-east-1/../x");
    e.ts.items[0].line = 42;
    ck_assert_int_eq(env_init(&e, &err), -1);
    ck_assert_str_eq(err.origin, "/etc/cloudburst/cloudburst.conf:42: clouds.[0].ec2.region");
    env_stop(&e);
}
END_TEST

START_TEST(test_call_deadline)
{
    struct env e;
    env_prepare(&e, (const char *const[]){ "--latency-ms", "3000", NULL });
    e.call_timeout_ms = 800;
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(env_init(&e, &err) == 0, "%s", err.msg);
    struct cb_instance_list out = { 0 };
    ck_assert_int_eq(e.mod.ops->list(e.state, &out, &err), -1);
    ck_assert_int_eq(err.code, CB_ERR_TIMEOUT);
    env_stop(&e);
}
END_TEST

/* A log sink that keeps everything the driver says. */
struct captured {
    char text[65536];
    size_t len;
    unsigned lines;
};

static void capture_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    struct captured *c = payload;
    va_list ap;
    (void)level;
    va_start(ap, fmt);
    int n = vsnprintf(c->text + c->len, sizeof c->text - c->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        c->len = c->len + (size_t)n < sizeof c->text - 1 ? c->len + (size_t)n : sizeof c->text - 1;
    c->lines++;
}

START_TEST(test_secrets_never_logged)
{
    struct env e;
    env_prepare(&e, NULL);
    ets_remove(&e.ts, "credentials_file");
    setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET, 1);
    setenv("AWS_SESSION_TOKEN", "SessionTokenValue123", 1);
    static struct captured cap;
    memset(&cap, 0, sizeof cap);
    struct cb_provider_init args = { .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "aws-test",
                                     .pool_name = "testpool", .settings = &e.ts.s,
                                     .connect_timeout_ms = 5000, .call_timeout_ms = 20000,
                                     .log = capture_log, .log_payload = &cap };
    struct cb_err err = CB_ERR_INIT;
    ck_assert_msg(e.mod.ops->init(&e.state, &args, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ec2_fake_control(&e.fake, "{\"fault\": {\"action\": \"RunInstances\", "
                                                "\"code\": \"RequestLimitExceeded\", "
                                                "\"status\": 503, \"times\": 1}}"),
                     0);
    struct cb_instance_list out = { 0 };
    ck_assert_msg(boot(&e, "batch-log", 2, &out, &err) == 0, "%s", err.msg);
    ck_assert_msg(e.mod.ops->list(e.state, &out, &err) == 0, "%s", err.msg);
    ck_assert_uint_ge(cap.lines, 3); /* init, the retry, the boot, the page */
    ck_assert_ptr_nonnull(strstr(cap.text, "RequestLimitExceeded"));
    ck_assert_ptr_nonnull(strstr(cap.text, "credentials from environment"));
    ck_assert_ptr_null(strstr(cap.text, FAKE_SECRET));
    ck_assert_ptr_null(strstr(cap.text, "SessionTokenValue123"));
    cb_instance_list_free(&out);
    unsetenv("AWS_SESSION_TOKEN");
    env_stop(&e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ec2");
    TCase *tc = tcase_create("driver");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_module_identity);
    tcase_add_test(tc, test_lifecycle);
    tcase_add_test(tc, test_idempotent_boot);
    tcase_add_test(tc, test_lost_response_does_not_boot_twice);
    tcase_add_test(tc, test_error_quota);
    tcase_add_test(tc, test_error_auth);
    tcase_add_test(tc, test_error_permanent_and_transient);
    tcase_add_test(tc, test_capacity_from_state);
    tcase_add_test(tc, test_throttle_then_success);
    tcase_add_test(tc, test_world_pool_hooks_state_file_and_control);
    tcase_add_test(tc, test_wrong_secret_is_auth_without_retry);
    tcase_add_test(tc, test_pagination_and_tag_filter);
    tcase_add_test(tc, test_terminate_batches_and_not_found);
    tcase_add_test(tc, test_terminate_error_marks_failed);
    tcase_add_test(tc, test_malformed_replies);
    tcase_add_test(tc, test_spot_request);
    tcase_add_test(tc, test_boot_spec_validation);
    tcase_add_test(tc, test_credentials_env_and_ini);
    tcase_add_test(tc, test_credentials_imds);
    tcase_add_test(tc, test_bad_settings);
    tcase_add_test(tc, test_call_deadline);
    tcase_add_test(tc, test_secrets_never_logged);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
