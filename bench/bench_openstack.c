/* bench_openstack: the OpenStack driver against tests/fake/fake_openstack.py with
 * 200 ms of latency on every API call (the target setting).
 *
 * 1. boot: one call asks for 1,000 servers (Nova multi-create), then list
 *    until all 1,000 are ACTIVE (1 s in BUILD): "requested and confirmed".
 *    Target <= 5 s.
 * 2. list: 10,000 servers of the pool, paginated (1,000 per page, Nova's
 *    default max_limit), with a token already held. Target <= 3 s.
 * Prints figures; never fails on time (HACKING.md). Exit 1 only if the driver
 * fails or the counts are wrong.
 */
#include "bench_provider.h"

struct os_bench {
    char auth_url[128];
    struct cb_setting items[5];
    struct cb_settings settings;
};

static const struct cb_settings *os_settings(const struct fake_server *fake, void *payload)
{
    struct os_bench *b = payload;
    snprintf(b->auth_url, sizeof b->auth_url, "%s/identity/v3", fake->base);
    b->items[0] = (struct cb_setting){ .name = "auth_url", .type = CB_SETTING_STRING, .str = b->auth_url };
    b->items[1] = (struct cb_setting){ .name = "username", .type = CB_SETTING_STRING, .str = "demo" };
    b->items[2] = (struct cb_setting){ .name = "password_file", .type = CB_SETTING_SECRET_FILE,
                                       .str = "/dev/null", .secret = "secret-password",
                                       .secret_len = 15 };
    b->items[3] = (struct cb_setting){ .name = "project_name", .type = CB_SETTING_STRING, .str = "demo" };
    b->items[4] = (struct cb_setting){ .name = "page_size", .type = CB_SETTING_INT, .num = 1000 };
    b->settings = (struct cb_settings){ .items = b->items, .n = 5, .path = "bench.openstack" };
    return &b->settings;
}

int main(void)
{
    struct os_bench b;
    const char *fargs[] = { "--latency", "0.2", "--build-time", "1.0", NULL };
    struct cb_boot_spec spec = { .batch_id = "bench-0001", .count = 1000, .flavor = "m1.small",
                                 .image = "70a599e0-31e7-49b7-b260-868f441e862b",
                                 .user_data = "#cloud-config\n", .user_data_len = 14 };
    return bench_boot_and_list("openstack", "fake_openstack.py", fargs, os_settings, &b, &spec,
                               250000, "1 multi-create POST, 1 s BUILD",
                               "{\"count\": 9000, \"name\": \"benchpool--seed\", \"metadata\": "
                               "{\"cloudburst-pool\": \"benchpool\", \"cloudburst-batch\": \"seed\"}}",
                               10000, "10 pages of 1,000");
}
