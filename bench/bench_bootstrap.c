/* bench_bootstrap: 200 nodes bootstrapped concurrently vs one.
 *
 * Nodes are real sshd instances on 127.0.0.1 (tests/bootstrap/harness.c):
 * CB_BENCH_SSHD daemons (default 20) × CB_BENCH_PER_SSHD nodes each (default
 * 10), every node with its own id, host key entry and root prefix, one
 * bootstrapper and one libuv loop in this process (the controller). The node
 * side models a startd that needs CB_BENCH_STARTD_DELAY seconds (default 2)
 * to answer, as on a real VM; 0 makes the run CPU-bound on this machine,
 * where all "VMs" share its cores. Prints the time of one bootstrap, the
 * time of all at once, their ratio (target <= 2) and the controller's peak
 * RSS. Never fails on time (exit 1 only if a bootstrap fails).
 *
 * Because every "VM" here runs on the controller's own cores, the raw ratio
 * measures this machine's CPU as much as the bootstrapper. The breakdown
 * separates the two: the controller's CPU per node (getrusage of this
 * process around each run), the node side's CPU per node (getrusage of the
 * children once the sshd instances are stopped and reaped: sshd, the SFTP
 * server, the shells, the script, the stand-ins), and a DERIVED ratio for a
 * deployment where the nodes are separate machines: one node's time plus the
 * controller's CPU time for all nodes, as if it were fully serialised on one
 * core.
 */
#include "bootstrap.h"
#include "bootstrap/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char token[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.c2ln";
static const char *repos[] = { "cms.cern.ch" };

struct run {
    int done, failed;
    unsigned attempts;          /* connection attempts, all nodes */
    double secs[512];           /* per node, in completion order */
};

static void on_result(void *payload, const struct cb_bootstrap_result *r)
{
    struct run *run = payload;
    if (run->done < (int)(sizeof run->secs / sizeof run->secs[0]))
        run->secs[run->done] = r->seconds;
    run->attempts += r->attempts;
    run->done++;
    if (!r->ok) {
        run->failed++;
        fprintf(stderr, "%s: %s: %s\n", r->node_id, r->err.origin, r->err.msg);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

/* User + system CPU seconds of this process or of its reaped children. */
static double cpu(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

static int envint(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? atoi(v) : dflt;
}

/* Bootstrap nodes [first, first+count) of the list; returns seconds. */
static double run_batch(struct cb_bootstrap *bs, struct h_node *sshd, char (*ids)[64],
                        char (*roots)[H_PATH], int per, int total, int first, int count,
                        struct run *run)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    memset(run, 0, sizeof *run);
    double t0 = now();
    for (int i = first; i < first + count; i++) {
        struct cb_bootstrap_target t = {
            .node_id = ids[i], .address = "127.0.0.1", .port = (unsigned)sshd[i < total ? i / per : 0].port,
            .cloud = "bench", .provider = "fake", .flavor = "m1.small", .instance_id = ids[i],
            .node_root = roots[i],
        };
        struct cb_err err = CB_ERR_INIT;
        if (cb_bootstrap_start(bs, &loop, &t, on_result, run, &err) != 0) {
            fprintf(stderr, "start %s: %s\n", ids[i], err.msg);
            run->failed++;
            run->done++;
        }
    }
    while (run->done < count && uv_run(&loop, UV_RUN_ONCE) != 0)
        ;
    double dt = now() - t0;
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return dt;
}

int main(void)
{
    int n_sshd = envint("CB_BENCH_SSHD", 20), per = envint("CB_BENCH_PER_SSHD", 10);
    int delay = envint("CB_BENCH_STARTD_DELAY", 2);
    int total = n_sshd * per;
    /* Orphaned node-side processes (a daemonised stand-in) are re-parented
     * here, so their CPU time is counted with the node side too. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct h_env env;
    char why[512];
    int rc = h_env_init(&env, why, sizeof why);
    if (rc != 0) {
        printf("bench_bootstrap: skipped: %s\n", why);
        return 0;
    }
    struct h_node *sshd = calloc((size_t)n_sshd, sizeof *sshd);
    char (*ids)[64] = calloc((size_t)total + 1, sizeof *ids);
    char (*roots)[H_PATH] = calloc((size_t)total + 1, sizeof *roots);
    if (sshd == NULL || ids == NULL || roots == NULL)
        return 1;
    int started = 0;
    for (; started < n_sshd; started++) {
        char id[32];
        snprintf(id, sizeof id, "s%d", started);
        if (h_node_start(&env, &sshd[started], id, per * 2 + 4, why, sizeof why) != 0) {
            printf("bench_bootstrap: skipped: %s\n", why);
            goto out;
        }
    }
    /* One root per node (node i uses sshd i / per); node `total` is the solo one. */
    for (int i = 0; i <= total; i++) {
        int s = i < total ? i / per : 0;
        snprintf(ids[i], sizeof ids[i], "bench-%d", i);
        snprintf(roots[i], sizeof roots[i], "%s/n%d", env.dir, i);
        if (h_sh("cp -a '%s' '%s' && echo %d > '%s/etc/standin-startd-delay'", sshd[s].root,
                 roots[i], delay, roots[i]) != 0) {
            printf("bench_bootstrap: cannot create node roots\n");
            goto out;
        }
    }
    struct cb_bootstrap_options o;
    memset(&o, 0, sizeof o);
    o.user = env.user;
    o.key_file = env.key_ed25519;
    o.host_key_policy = CB_HOSTKEY_ACCEPT_NEW;
    o.known_hosts_file = env.known_hosts;
    o.connect_timeout = 60;
    o.wait_timeout = 60;
    o.step_timeout = 300;
    o.script_dir = env.script_dir;
    o.state_dir = env.state_dir;
    o.max_concurrent = (unsigned)total;
    o.site.central_manager = "cm.example.org";
    o.site.cvmfs_repositories = repos;
    o.site.n_cvmfs_repositories = 1;
    o.site.cvmfs_http_proxy = "http://squid.example.org:3128";
    o.site.token = token;
    o.site.token_len = sizeof token - 1;
    struct cb_bootstrap *bs = NULL;
    struct cb_err err = CB_ERR_INIT;
    if (cb_bootstrap_create(&bs, &o, &err) != 0) {
        printf("bench_bootstrap: %s: %s\n", err.origin, err.msg);
        goto out;
    }
    struct run one, all;
    /* Setup (keys, node roots) is done: count the node side from here. */
    double kids0 = cpu(RUSAGE_CHILDREN);
    double c0 = cpu(RUSAGE_SELF);
    double t1 = run_batch(bs, sshd, ids, roots, per, total, total, 1, &one);
    double c1 = cpu(RUSAGE_SELF);
    double tn = run_batch(bs, sshd, ids, roots, per, total, 0, total, &all);
    double c2 = cpu(RUSAGE_SELF);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* Stop the nodes and reap everything, so their CPU time is accounted. */
    for (int i = 0; i < started; i++)
        h_node_stop(&sshd[i]);
    started = 0;
    for (int tries = 0; tries < 100; tries++) {
        pid_t p = waitpid(-1, NULL, WNOHANG);
        if (p < 0 && errno == ECHILD)
            break;
        if (p <= 0)
            usleep(50 * 1000);
    }
    double kids = cpu(RUSAGE_CHILDREN) - kids0;
    double ctl_one = c1 - c0, ctl_all = c2 - c1;
    printf("bench_bootstrap: %d sshd x %d nodes, node-side startd delay %d s\n", n_sshd, per,
           delay);
    printf("  one node:        %.2f s (%s)\n", t1, one.failed == 0 ? "ok" : "FAILED");
    printf("  %d nodes at once: %.2f s (%d failed)\n", total, tn, all.failed);
    printf("  ratio:           %.2f (target <= 2.0)\n", tn / t1);
    if (all.done > 0) {
        int k = all.done < 512 ? all.done : 512;
        printf("  per node in the %d-node run: first done %.2f s, median %.2f s, last %.2f s; "
               "%u connection attempts\n",
               total, all.secs[0], all.secs[k / 2], all.secs[k - 1], all.attempts);
    }
    printf("  controller peak RSS: %ld MiB (one process, one loop thread%s)\n",
           ru.ru_maxrss / 1024,
#if defined(__SANITIZE_ADDRESS__)
           ", ASan build"
#else
           ""
#endif
    );
    printf("  controller CPU:  %.2f s user + %.2f s system for both runs\n", tv(ru.ru_utime),
           tv(ru.ru_stime));
    printf("breakdown (%d bootstraps):\n", total + 1);
    printf("  controller CPU per node: %.1f ms (one node alone: %.1f ms)\n",
           ctl_all * 1000.0 / total, ctl_one * 1000.0);
    printf("  node-side CPU per node:  %.1f ms (%.2f s in all: sshd, SFTP, shells, script, "
           "stand-ins)\n",
           kids * 1000.0 / (total + 1), kids);
    printf("  node-side CPU of all %d nodes over this machine's %ld cores: >= %.2f s of the %d-node "
           "time\n",
           total, sysconf(_SC_NPROCESSORS_ONLN),
           kids * total / (total + 1) / (double)sysconf(_SC_NPROCESSORS_ONLN), total);
    printf("  DERIVED (not measured) ratio with nodes on their own machines: (%.2f s one node + "
           "%.2f s controller CPU serialised) / %.2f s = %.2f\n",
           t1, ctl_all, t1, (t1 + ctl_all) / t1);
    rc = one.failed + all.failed == 0 ? 0 : 1;
    cb_bootstrap_free(bs);
out:
    for (int i = 0; i < started; i++)
        h_node_stop(&sshd[i]);
    h_env_cleanup(&env);
    free(sshd);
    free(ids);
    free(roots);
    return rc;
}
