/* bench_deltacloud: the Deltacloud driver against tests/fake/fake_deltacloud.py with
 * 200 ms of latency on every API call.
 *
 * Deltacloud has no batch create: one POST /api/instances starts one
 * instance, and the driver's calls to one cloud are sequential (provider.h),
 * so booting K instances costs about K x latency. The benchmark boots 25,
 * reports the rate and what 1,000 would take, then lists 10,000 instances
 * (Deltacloud returns the whole collection in one reply; no pagination).
 * Prints figures; never fails on time. Exit 1 only on driver failure.
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

#define BOOTS 25

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
    char dir[] = "/tmp/cb-bench-deltacloud-XXXXXX", portfile[64], script[4096], api_url[128];
    int port = 0, rc = 1;
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    snprintf(script, sizeof script, "%s/tests/fake/fake_deltacloud.py", CB_TOP_SRCDIR);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the benchmark */
        execlp(CB_PYTHON3, CB_PYTHON3, script, "--port-file", portfile, "--latency", "0.2",
               (char *)NULL);
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
    void *st = NULL;
    if (port == 0 || cb_provider_load(&mod, CB_TOP_BUILDDIR "/providers", "deltacloud", &err) != 0) {
        fprintf(stderr, "bench_deltacloud: setup failed: %s\n", err.msg);
        goto out;
    }
    snprintf(api_url, sizeof api_url, "http://127.0.0.1:%d/api", port);
    struct cb_setting items[] = {
        { .name = "api_url", .type = CB_SETTING_STRING, .str = api_url },
        { .name = "username", .type = CB_SETTING_STRING, .str = "mockuser" },
        { .name = "password_file", .type = CB_SETTING_SECRET_FILE, .str = "/dev/null",
          .secret = "mockpassword", .secret_len = 12 },
    };
    struct cb_settings settings = { .items = items, .n = sizeof items / sizeof items[0],
                                    .path = "bench.deltacloud" };
    struct cb_provider_init args = { .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "bench",
                                     .pool_name = "benchpool", .settings = &settings,
                                     .connect_timeout_ms = 5000, .call_timeout_ms = 120000,
                                     .log = quiet_log };
    if (mod.ops->init(&st, &args, &err) != 0)
        goto fail;
    struct cb_instance_list out = { 0 }, all = { 0 };
    struct cb_boot_spec spec = { .batch_id = "bench-0001", .count = BOOTS, .flavor = "m1-small",
                                 .image = "img1" };
    double t0 = now_s();
    if (mod.ops->boot(st, &spec, &out, &err) != 0)
        goto fail;
    double t_boot = now_s() - t0;
    double per = t_boot / (double)out.n;
    printf("deltacloud boot: %zu instances in %.2f s (%.0f ms each: one POST per instance, "
           "calls to one cloud are sequential); 1,000 would take about %.0f s "
           "[openstack target 5 s is out of reach without a batch API]\n",
           out.n, t_boot, per * 1000, per * 1000 + 0.4);
    if (out.n != BOOTS)
        goto fail;
    if (ctl(port, "/_fake/seed", "{\"count\": 9975, \"name\": \"benchpool--seed\"}") != 0)
        goto fail;
    t0 = now_s();
    if (mod.ops->list(st, &all, &err) != 0)
        goto fail;
    double t_list = now_s() - t0;
    printf("deltacloud list: %zu instances in %.2f s (one unpaginated reply) [target <= 3 s]\n",
           all.n, t_list);
    if (all.n != 10000)
        goto fail;
    rc = 0;
    cb_instance_list_free(&out);
    cb_instance_list_free(&all);
    goto out;
fail:
    fprintf(stderr, "bench_deltacloud: %s: %s\n", err.origin, err.msg);
out:
    if (st != NULL)
        mod.ops->fini(st);
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
