/* bench_provider: what the driver benchmarks (bench_ec2, bench_openstack,
 * bench_deltacloud) share: the clock, a quiet log, starting a fake cloud
 * (tests/fake_server.h), loading and initialising a driver, and "list until
 * all are running". Header-only; no globals. */
#ifndef CB_BENCH_PROVIDER_H
#define CB_BENCH_PROVIDER_H

#include "fake_server.h"
#include "provider.h"
#include "provider_loader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef CB_TOP_SRCDIR
#define CB_TOP_SRCDIR "."
#endif
#ifndef CB_TOP_BUILDDIR
#define CB_TOP_BUILDDIR "."
#endif
#ifndef CB_PYTHON3
#define CB_PYTHON3 "python3"
#endif

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Warnings and worse go to stderr; the figures stay on stdout. */
static inline void bench_log(void *payload, enum cb_log_level level, const char *fmt, ...)
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

/* Start tests/fake/<script> from the source tree this benchmark was built from. */
static inline int bench_fake_start(struct fake_server *f, const char *script,
                                   const char *const *args)
{
    char msg[256];
    memset(f, 0, sizeof *f);
    struct fake_server_opts o = { .script = script, .srcdir = CB_TOP_SRCDIR,
                                  .python = CB_PYTHON3[0] ? CB_PYTHON3 : NULL, .args = args,
                                  .quiet = true };
    if (fake_server_start(f, &o, msg, sizeof msg) != 0) {
        fprintf(stderr, "bench: %s\n", msg);
        return -1;
    }
    return 0;
}

/* Load providers/<name> from the build tree and init it for pool "benchpool". */
static inline int bench_driver(struct cb_provider_module *mod, void **st, const char *name,
                               const struct cb_settings *settings, struct cb_err *err)
{
    *st = NULL;
    if (cb_provider_load(mod, CB_TOP_BUILDDIR "/providers", name, err) != 0)
        return -1;
    struct cb_provider_init args = { .version = CB_PROVIDER_ABI_VERSION, .cloud_name = "bench",
                                     .pool_name = "benchpool", .settings = settings,
                                     .connect_timeout_ms = 5000, .call_timeout_ms = 120000,
                                     .log = bench_log };
    if (mod->ops->init(st, &args, err) != 0) {
        cb_provider_unload(mod);
        return -1;
    }
    return 0;
}

/* List until `want` instances are running (at most max_s seconds, a pause of
 * pause_us between listings). Returns how many were running at the end, or
 * (size_t)-1 if a listing failed; *polls counts the listings. */
static inline size_t bench_confirm(const struct cb_provider_module *mod, void *st, size_t want,
                                   double max_s, unsigned pause_us, unsigned *polls,
                                   struct cb_err *err)
{
    struct cb_instance_list all = { 0 };
    size_t running = 0;
    double t0 = bench_now_s();
    *polls = 0;
    while (running < want && bench_now_s() - t0 < max_s) {
        all.n = 0;
        if (mod->ops->list(st, &all, err) != 0) {
            cb_instance_list_free(&all);
            return (size_t)-1;
        }
        ++*polls;
        running = 0;
        for (size_t i = 0; i < all.n; i++)
            running += all.items[i].state == CB_INSTANCE_RUNNING;
        if (running < want && pause_us > 0) {
            struct timespec ts = { pause_us / 1000000, (long)(pause_us % 1000000) * 1000L };
            nanosleep(&ts, NULL);
        }
    }
    cb_instance_list_free(&all);
    return running;
}

/* Fills the driver's settings once the fake's address is known. */
typedef const struct cb_settings *(*bench_settings_fn)(const struct fake_server *fake,
                                                       void *payload);

/* The two figures for one driver against its fake:
 * 1. boot `spec` (1,000 instances) and list until all run: "requested and
 *    confirmed" (target <= 5 s);
 * 2. seed more instances (seed_json to /_fake/seed) and time one list of
 *    `list_want` (target <= 3 s).
 * boot_how / list_how describe the calls in the printed lines. Returns the
 * exit status: 1 only if the driver failed or a count is wrong. */
static inline int bench_boot_and_list(const char *driver, const char *script,
                                      const char *const *fake_args, bench_settings_fn settings,
                                      void *payload, const struct cb_boot_spec *spec,
                                      unsigned pause_us, const char *boot_how,
                                      const char *seed_json, size_t list_want,
                                      const char *list_how)
{
    struct fake_server fake;
    if (bench_fake_start(&fake, script, fake_args) != 0)
        return 1;
    struct cb_provider_module mod = { 0 };
    struct cb_err err = CB_ERR_INIT;
    struct cb_instance_list out = { 0 }, all = { 0 };
    void *st = NULL;
    int rc = 1;
    if (bench_driver(&mod, &st, driver, settings(&fake, payload), &err) != 0)
        goto fail;

    double t0 = bench_now_s();
    if (mod.ops->boot(st, spec, &out, &err) != 0)
        goto fail;
    double t_boot = bench_now_s() - t0;
    unsigned polls;
    size_t running = bench_confirm(&mod, st, spec->count, 60, pause_us, &polls, &err);
    if (running == (size_t)-1)
        goto fail;
    double t_confirm = bench_now_s() - t0;
    printf("%s boot: %zu instances accepted in %.2f s (%s), %zu running confirmed in %.2f s "
           "after %u listing(s) [target <= 5 s, 200 ms/call]\n",
           driver, out.n, t_boot, boot_how, running, t_confirm, polls);
    if (out.n != spec->count || running != spec->count) {
        fprintf(stderr, "bench %s: %zu accepted, %zu running, not %u\n", driver, out.n, running,
                spec->count);
        goto out;
    }

    char *r = fake_server_call(&fake, "POST", "/_fake/seed", seed_json);
    if (r == NULL) {
        cb_err_set(&err, CB_ERR_INTERNAL, "bench", "the fake refused /_fake/seed");
        goto fail;
    }
    free(r);
    t0 = bench_now_s();
    if (mod.ops->list(st, &all, &err) != 0)
        goto fail;
    double t_list = bench_now_s() - t0;
    printf("%s list: %zu instances in %.2f s (%s, %.0f instances/s) [target <= 3 s, 200 ms/call]\n",
           driver, all.n, t_list, list_how, (double)all.n / t_list);
    if (all.n == list_want)
        rc = 0;
    else
        fprintf(stderr, "bench %s: listed %zu, not %zu\n", driver, all.n, list_want);
    goto out;
fail:
    fprintf(stderr, "bench %s: %s: %s\n", driver, err.origin, err.msg);
out:
    cb_instance_list_free(&out);
    cb_instance_list_free(&all);
    if (st != NULL) {
        mod.ops->fini(st);
        cb_provider_unload(&mod);
    }
    fake_server_stop(&fake);
    return rc;
}

#endif
