/* testdummy: a test-only provider module for the configuration tests.
 *
 * One source, built five times (tests/config.mk) with a different
 * CB_DUMMY_KIND: "testdummy" (a spec with every setting type, an INT range and
 * a SECRET_FILE); stand-ins named "ec2" and "openstack" whose specs are the
 * settings examples/cloudburst.conf uses (names as the real drivers declare
 * them), so the shipped example is checked with provider validation on; and
 * "badspec" / "baddefault", drivers with a broken spec the loader must refuse. It is never installed. Its cloud calls fail
 * with a permanent error: the config tests only read its identity, caps and
 * settings spec.
 */
#include "provider.h"

#include <stddef.h>

#define KIND_TESTDUMMY 0
#define KIND_EC2 1
#define KIND_OPENSTACK 2
#define KIND_BADSPEC 3
#define KIND_BADDEFAULT 4

#ifndef CB_DUMMY_KIND
#error "build with -DCB_DUMMY_KIND=0|1|2"
#endif

#if CB_DUMMY_KIND == KIND_TESTDUMMY
#define DUMMY_NAME "testdummy"
#define DUMMY_CAPS 0u
static const struct cb_setting_spec dummy_settings[] = {
    { .name = "endpoint", .type = CB_SETTING_STRING, .required = true,
      .doc = "API endpoint" },
    { .name = "credentials_file", .type = CB_SETTING_SECRET_FILE, .required = true,
      .doc = "API credentials" },
    { .name = "max_retries", .type = CB_SETTING_INT, .default_value = "3", .min = 0, .max = 10,
      .doc = "retries per call" },
    { .name = "verify_tls", .type = CB_SETTING_BOOL, .default_value = "true",
      .doc = "verify the server certificate" },
    { .name = "networks", .type = CB_SETTING_STRING_LIST, .default_value = "net-a,net-b",
      .doc = "networks to attach" },
    { .name = "label", .type = CB_SETTING_STRING, .doc = "free text, no default" },
    { .name = NULL },
};
#elif CB_DUMMY_KIND == KIND_EC2
/* Names as providers/ec2 declares them (a subset is enough for the example). */
#define DUMMY_NAME "ec2"
#define DUMMY_CAPS (CB_PROVIDER_CAP_BATCH_BOOT | CB_PROVIDER_CAP_CLIENT_TOKEN | CB_PROVIDER_CAP_SPOT)
static const struct cb_setting_spec dummy_settings[] = {
    { .name = "region", .type = CB_SETTING_STRING, .default_value = "us-east-1",
      .doc = "AWS region" },
    { .name = "endpoint", .type = CB_SETTING_STRING, .doc = "EC2 endpoint URL" },
    { .name = "credentials_file", .type = CB_SETTING_SECRET_FILE, .doc = "access key id and secret" },
    { .name = "profile", .type = CB_SETTING_STRING, .default_value = "default",
      .doc = "profile of credentials_file" },
    { .name = "subnet_id", .type = CB_SETTING_STRING, .doc = "VPC subnet" },
    { .name = "security_group_ids", .type = CB_SETTING_STRING_LIST, .doc = "security groups" },
    { .name = "key_name", .type = CB_SETTING_STRING, .doc = "EC2 key pair" },
    { .name = "instance_profile", .type = CB_SETTING_STRING, .doc = "IAM instance profile" },
    { .name = NULL },
};
#elif CB_DUMMY_KIND == KIND_OPENSTACK
/* Names as providers/openstack declares them (a subset). */
#define DUMMY_NAME "openstack"
#define DUMMY_CAPS CB_PROVIDER_CAP_BATCH_BOOT
static const struct cb_setting_spec dummy_settings[] = {
    { .name = "auth_url", .type = CB_SETTING_STRING, .required = true, .doc = "Keystone URL" },
    { .name = "auth_method", .type = CB_SETTING_STRING, .default_value = "password",
      .doc = "password or application_credential" },
    { .name = "application_credential_id", .type = CB_SETTING_STRING,
      .doc = "application credential id" },
    { .name = "application_credential_secret_file", .type = CB_SETTING_SECRET_FILE,
      .doc = "application credential secret" },
    { .name = "project_name", .type = CB_SETTING_STRING, .doc = "project name" },
    { .name = "region", .type = CB_SETTING_STRING, .doc = "region name" },
    { .name = "interface", .type = CB_SETTING_STRING, .default_value = "public",
      .doc = "endpoint interface" },
    { .name = "networks", .type = CB_SETTING_STRING_LIST, .doc = "networks to attach" },
    { .name = "key_name", .type = CB_SETTING_STRING, .doc = "Nova key pair" },
    { .name = "security_groups", .type = CB_SETTING_STRING_LIST, .doc = "security groups" },
    { .name = "page_size", .type = CB_SETTING_INT, .default_value = "1000", .min = 1,
      .max = 10000, .doc = "servers per listing page" },
    { .name = NULL },
};
#elif CB_DUMMY_KIND == KIND_BADSPEC
/* A driver bug the loader must catch: a setting name that is not a safe name. */
#define DUMMY_NAME "badspec"
#define DUMMY_CAPS 0u
static const struct cb_setting_spec dummy_settings[] = {
    { .name = "endpoint", .type = CB_SETTING_STRING, .doc = "fine" },
    { .name = "bad name", .type = CB_SETTING_STRING, .doc = "not a safe name" },
    { .name = NULL },
};
#elif CB_DUMMY_KIND == KIND_BADDEFAULT
/* A driver bug the loader must catch: an INT default that is not a number. */
#define DUMMY_NAME "baddefault"
#define DUMMY_CAPS 0u
static const struct cb_setting_spec dummy_settings[] = {
    { .name = "retries", .type = CB_SETTING_INT, .default_value = "three", .min = 0, .max = 9,
      .doc = "default is not a number" },
    { .name = NULL },
};
#else
#error "unknown CB_DUMMY_KIND"
#endif

static int dummy_init(void **out, const struct cb_provider_init *args, struct cb_err *err)
{
    (void)args;
    *out = NULL;
    return cb_err_set(err, CB_ERR_PERMANENT, DUMMY_NAME, "test-only driver: it talks to no cloud");
}

static int dummy_boot(void *state, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                      struct cb_err *err)
{
    (void)state, (void)spec, (void)out;
    return cb_err_set(err, CB_ERR_PERMANENT, DUMMY_NAME, "test-only driver: it boots nothing");
}

static int dummy_list(void *state, struct cb_instance_list *out, struct cb_err *err)
{
    (void)state, (void)out;
    return cb_err_set(err, CB_ERR_PERMANENT, DUMMY_NAME, "test-only driver: it lists nothing");
}

static int dummy_terminate(void *state, const char *const *ids, size_t n, bool *failed,
                           struct cb_err *err)
{
    (void)state, (void)ids, (void)n, (void)failed;
    return cb_err_set(err, CB_ERR_PERMANENT, DUMMY_NAME, "test-only driver: it owns nothing");
}

static void dummy_fini(void *state)
{
    (void)state;
}

const struct cb_provider_ops cb_provider_ops_v1 = {
    .abi_version = CB_PROVIDER_ABI_VERSION,
    .name = DUMMY_NAME,
    .description = "test-only driver for the configuration tests",
    .caps = DUMMY_CAPS,
    .settings = dummy_settings,
    .init = dummy_init,
    .boot = dummy_boot,
    .list = dummy_list,
    .terminate = dummy_terminate,
    .host_keys = NULL,
    .fini = dummy_fini,
};
