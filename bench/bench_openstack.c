/* bench_openstack: the OpenStack driver against tests/fake/fake_openstack.py with
 * 200 ms of latency on every API call (the target setting).
 *
 * 1. boot: one call asks for 1,000 servers (Nova multi-create), then list
 *    until all 1,000 are ACTIVE ("requested and confirmed"). Target <= 5 s.
 * 2. list: 10,000 servers of the pool, paginated (1,000 per page, Nova's
 *    default max_limit), with a token already held. Target <= 3 s.
 * Prints figures; never fails on time (HACKING.md). Exit 1 only if the driver
 * fails or the counts are wrong.
 */
#include "cb_http.h"
#include "provider.h"
#include "provider_loader.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet_log(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    (void)payload;
    if (level <= CB_LOG_WARNING) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
}

static int ctl(int port, const char *path, const char *body)
{
    struct cb_http *h;
    struct cb_err err = CB_ERR_INIT;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    if (cb_http_new(&h, &err) != 0)
        return -1;
    struct cb_http_request req = { .method = "POST", .url = url, .body = body,
                                   .body_len = strlen(body), .timeout_ms = 60000 };
    struct cb_http_response resp;
    int rc = cb_http_perform(h, "fake", &req, &resp, &err);
    if (rc == 0 && resp.status != 200)
        rc = -1;
    cb_http_response_free(&resp);
    cb_http_free(h);
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/cb-bench-openstack-XXXXXX", portfile[64], script[4096], auth_url[128];
    int port = 0, rc = 1;
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(script, sizeof script, "%s/tests/fake/fake_openstack.py", CB_TOP_SRCDIR);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the benchmark */
        execlp(CB_PYTHON3, CB_PYTHON3, script, "--port-file", portfile, "--latency", "0.2",
               "--build-time", "1.0", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 1500 && port == 0; i++) {
        FILE *f = fopen(portfile, "r");
        if (f != NULL) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port == 0)
            usleep(20000);
    }
    struct cb_provider_module mod = { 0 };
    struct cb_err err = CB_ERR_INIT;
    if (port == 0 || cb_provider_load(&mod, CB_TOP_BUILDDIR "/providers", "openstack", &err) != 0) {
        fprintf(stderr, "bench_openstack: setup failed: %s\n", err.msg);
        goto out;
    }
    snprintf(auth_url, sizeof auth_url, "http://127.0.0.1:%d/identity/v3", port);
    struct cb_setting items[] = {
        { .name = "auth_url", .type = CB_SETTING_STRING, .str = auth_url },
        { .name = "username", .type = CB_SETTING_STRING, .str = "demo" },
        { .name = "password_file", .type = CB_SETTING_SECRET_FILE, .str = "/dev/null",
          .secret = "secret-password", .secret_len = 15 },
        { .name = "project_name", .type = CB_SETTING_STRING, .str = "demo" },
        { .name = "page_size", .type = CB_SETTING_INT, .num = 1000 },
    };
    struct cb_settings settings = { .items = items, .n = sizeof items / sizeof items[0],
                                    .path = "bench.openstack" };
    struct cb_provider_init args = { .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "bench",
                                     .pool_name = "benchpool", .settings = &settings,
                                     .connect_timeout_ms = 5000, .call_timeout_ms = 60000,
                                     .log = quiet_log };
    void *st = NULL;
    if (mod.ops->init(&st, &args, &err) != 0)
        goto fail;

    /* 1. boot 1,000 and confirm them running. */
    struct cb_instance_list out = { 0 }, all = { 0 };
    struct cb_boot_spec spec = { .batch_id = "bench-0001", .count = 1000, .flavor = "m1.small",
                                 .image = "70a599e0-31e7-49b7-b260-868f441e862b",
                                 .user_data = "#cloud-config\n", .user_data_len = 14 };
    double t0 = now_s();
    if (mod.ops->boot(st, &spec, &out, &err) != 0)
        goto fail;
    double t_boot = now_s() - t0;
    size_t running = 0;
    unsigned polls = 0;
    while (running < 1000 && now_s() - t0 < 60) {
        all.n = 0;
        if (mod.ops->list(st, &all, &err) != 0)
            goto fail;
        polls++;
        running = 0;
        for (size_t i = 0; i < all.n; i++)
            running += all.items[i].state == CB_INSTANCE_RUNNING;
        if (running < 1000)
            usleep(250000);
    }
    double t_confirm = now_s() - t0;
    printf("openstack boot: %zu servers accepted in %.2f s (1 multi-create POST), %zu running "
           "confirmed in %.2f s after %u listing(s) [target <= 5 s, 200 ms/call, 1 s BUILD]\n",
           out.n, t_boot, running, t_confirm, polls);
    if (out.n != 1000 || running != 1000)
        goto fail;

    /* 2. list 10,000 (the 1,000 above plus 9,000 more), token already held. */
    if (ctl(port, "/_fake/seed", "{\"count\": 9000, \"name\": \"benchpool--seed\", "
            "\"metadata\": {\"cloudburst-pool\": \"benchpool\", \"cloudburst-batch\": \"seed\"}}") != 0)
        goto fail;
    all.n = 0;
    t0 = now_s();
    if (mod.ops->list(st, &all, &err) != 0)
        goto fail;
    double t_list = now_s() - t0;
    printf("openstack list: %zu servers in %.2f s (10 pages of 1,000, %.0f servers/s) "
           "[target <= 3 s, 200 ms/call]\n", all.n, t_list, (double)all.n / t_list);
    if (all.n != 10000)
        goto fail;
    rc = 0;
    cb_instance_list_free(&out);
    cb_instance_list_free(&all);
    mod.ops->fini(st);
    goto out;
fail:
    fprintf(stderr, "bench_openstack: %s: %s\n", err.origin, err.msg);
out:
    if (mod.ops != NULL)
        cb_provider_unload(&mod);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    unlink(portfile);
    rmdir(dir);
    return rc;
}
