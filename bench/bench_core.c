/* bench_core: decision time and peak memory of one cb_core_decide() call.
 *
 * Scenarios: 10k / 100k / 1M idle jobs, as a realistic number of job shapes
 * (48: HTCondor autoclusters of a busy Tier-2) and as the worst case where
 * every job is its own shape (capped at 1M), against 1k and 10k cloud nodes
 * already in the pool (half busy), each listed by its cloud. Three clouds
 * with four flavors each; each cloud may grow 20 % beyond the nodes it has
 * (max_nodes), so the plan sees the whole queue and the caps bite.
 *
 * Each scenario runs in its own child process so the peak RSS it reports
 * (getrusage ru_maxrss) is its own. "first" is the decide that reconciles a
 * freshly restored core with the pool and the listings; "steady" is the next
 * cycle with the same observations (what the daemon pays every cycle).
 * Target (issue 3): 100k jobs + 10k nodes in <= 100 ms and <= 64 MB RSS.
 * Prints figures; never fails on time.
 */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NCLOUD 3
#define T0 INT64_C(1767225600)

/* CPU time of this process: the machine is shared, and wall time under
 * load says more about the neighbours than about the core. Wall time of the
 * steady decide is printed too. */
static double ms_since(const struct timespec *a, clockid_t clk)
{
    struct timespec b;
    clock_gettime(clk, &b);
    return (double)(b.tv_sec - a->tv_sec) * 1e3 + (double)(b.tv_nsec - a->tv_nsec) / 1e6;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

static int run(uint64_t jobs, uint64_t shapes, uint64_t nodes)
{
    if (nodes == 0 || shapes == 0)
        return 1;
    static struct cb_core_flavor flavors[NCLOUD][4];
    static struct cb_core_cloud clouds[NCLOUD];
    static const struct { const char *n; uint32_t c; uint64_t m; double cost; } fl[4] = {
        { "c2", 2, 4096, 0.08 }, { "c4", 4, 8192, 0.16 },
        { "c8", 8, 16384, 0.31 }, { "c16", 16, 32768, 0.60 },
    };
    for (int c = 0; c < NCLOUD; c++) {
        snprintf(clouds[c].name, sizeof clouds[c].name, "cloud%d", c);
        clouds[c].enabled = true;
        clouds[c].priority = c;
        clouds[c].n_flavors = 4;
        /* A site's pool: room for 20 % more nodes than it has. */
        clouds[c].max_nodes = (uint32_t)(nodes / NCLOUD + nodes / NCLOUD / 5 + 1);
        clouds[c].flavors = flavors[c];
        for (int f = 0; f < 4; f++) {
            snprintf(flavors[c][f].name, sizeof flavors[c][f].name, "%s", fl[f].n);
            flavors[c][f].cpus = fl[f].c;
            flavors[c][f].memory_mb = fl[f].m;
            flavors[c][f].disk_gb = 100;
            flavors[c][f].cost_per_hour = fl[f].cost * (1 + 0.1 * c);
        }
    }
    struct cb_core_config cfg;
    cb_core_config_defaults(&cfg);
    cfg.clouds = clouds;
    cfg.n_clouds = NCLOUD;
    struct cb_err err = CB_ERR_INIT;
    struct cb_core *core;
    if (cb_core_new(&core, &cfg, &err) != 0) {
        fprintf(stderr, "bench_core: %s: %s\n", err.origin, err.msg);
        return 1;
    }
    long rss_start = peak_rss_kb();
    uint64_t seed = jobs * 31 + shapes * 7 + nodes;

    /* The pool: nodes restored as joined (the ledger after a restart),
     * listed by their cloud and present in the collector, half busy. */
    struct cb_supply supply = { 0 };
    struct cb_instance_list lists[NCLOUD] = { { 0 } };
    struct cb_core_listing listings[NCLOUD];
    for (uint64_t i = 0; i < nodes; i++) {
        struct cb_core_node_info ni;
        memset(&ni, 0, sizeof ni);
        unsigned c = (unsigned)(i % NCLOUD), f = (unsigned)(lcg(&seed) % 4);
        bool busy = i % 2 == 0;
        snprintf(ni.batch_id, sizeof ni.batch_id, "cb-%llu", (unsigned long long)(i / 10 + 1));
        snprintf(ni.node_id, sizeof ni.node_id, "%s-%llu", ni.batch_id,
                 (unsigned long long)(i % 10));
        snprintf(ni.instance_id, sizeof ni.instance_id, "i-%08llx", (unsigned long long)i);
        ni.cloud = c;
        ni.flavor = f;
        ni.state = busy ? CB_NODE_BUSY : CB_NODE_IDLE;
        ni.requested_at = ni.booted_at = ni.running_at = ni.joined_at = T0 - 3600;
        ni.state_since = T0 - 120;
        ni.idle_since = busy ? -1 : T0 - 120;
        ni.drain_started_at = -1;
        if (cb_core_restore_node(core, &ni, &err) != 0) {
            fprintf(stderr, "bench_core: %s\n", err.msg);
            return 1;
        }
        struct cb_instance *in = cb_instance_list_add(&lists[c]);
        struct cb_pool_node *p = cb_supply_add(&supply);
        if (in == NULL || p == NULL)
            return 1;
        snprintf(in->id, sizeof in->id, "%s", ni.instance_id);
        snprintf(in->node_id, sizeof in->node_id, "%s", ni.node_id);
        snprintf(in->batch_id, sizeof in->batch_id, "%s", ni.batch_id);
        snprintf(in->flavor, sizeof in->flavor, "%s", flavors[c][f].name);
        in->state = CB_INSTANCE_RUNNING;
        in->launch_time = T0 - 3600;
        snprintf(p->node_id, sizeof p->node_id, "%s", ni.node_id);
        snprintf(p->instance_id, sizeof p->instance_id, "%s", ni.instance_id);
        snprintf(p->cloud, sizeof p->cloud, "%s", clouds[c].name);
        p->total_cpus = flavors[c][f].cpus;
        p->idle_cpus = busy ? 0 : p->total_cpus;
        p->total_memory_mb = flavors[c][f].memory_mb;
        p->idle_memory_mb = busy ? 0 : p->total_memory_mb;
        p->idle_disk_kb = 100ull * 1024 * 1024;
        p->busy = busy;
        p->claimed_slots = busy;
        p->idle_since = busy ? -1 : T0 - 120;
        p->expected_empty_at = busy ? T0 + (int64_t)(lcg(&seed) % 36000) : -1;
    }
    for (int c = 0; c < NCLOUD; c++) {
        listings[c].instances = &lists[c];
        listings[c].fresh = true;
    }

    /* The queue. */
    struct cb_demand demand = { 0 };
    static const uint32_t cpus[] = { 1, 1, 1, 1, 2, 4, 8, 8 };
    uint64_t left = jobs;
    for (uint64_t s = 0; s < shapes && left > 0; s++) {
        struct cb_job_shape *j = cb_demand_add(&demand);
        if (j == NULL)
            return 1;
        j->cpus = cpus[lcg(&seed) % 8];
        j->memory_mb = 1000 + (lcg(&seed) % 3000) * j->cpus / 2;
        j->disk_kb = 1024 * (1024 + lcg(&seed) % 20000);
        j->clouds = 1 + lcg(&seed) % 7;
        uint64_t n = s + 1 == shapes ? left : jobs / shapes;
        if (n == 0)
            n = 1;
        j->count = (uint32_t)n;
        left -= n;
        demand.idle_jobs += n;
    }
    long rss_inputs = peak_rss_kb();

    struct cb_core_output out = CB_CORE_OUTPUT_INIT;
    struct cb_core_input in = {
        .now = T0, .demand = &demand, .supply = &supply,
        .listings = listings, .n_listings = NCLOUD,
    };
    struct timespec t, tw;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    if (cb_core_decide(core, &in, &out, &err) != 0) {
        fprintf(stderr, "bench_core: %s\n", err.msg);
        return 1;
    }
    double first = ms_since(&t, CLOCK_PROCESS_CPUTIME_ID);
    size_t actions = out.n_actions;
    uint64_t boots = 0;
    for (int c = 0; c < NCLOUD; c++)
        boots += out.clouds[c].boots;
    in.now = T0 + 60;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    clock_gettime(CLOCK_MONOTONIC, &tw);
    if (cb_core_decide(core, &in, &out, &err) != 0) {
        fprintf(stderr, "bench_core: %s\n", err.msg);
        return 1;
    }
    double steady = ms_since(&t, CLOCK_PROCESS_CPUTIME_ID);
    double wall = ms_since(&tw, CLOCK_MONOTONIC);
    long rss_end = peak_rss_kb();
    printf("%9llu %9llu %7llu %9.1f %9.1f %9.1f %8.1f %8.1f %8zu %6llu\n",
           (unsigned long long)jobs, (unsigned long long)demand.n, (unsigned long long)nodes,
           first, steady, wall, rss_end / 1024.0, (rss_end - rss_inputs) / 1024.0, actions,
           (unsigned long long)boots);
    (void)rss_start;
    cb_core_output_free(&out);
    cb_demand_free(&demand);
    cb_supply_free(&supply);
    for (int c = 0; c < NCLOUD; c++)
        cb_instance_list_free(&lists[c]);
    cb_core_free(core);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4) /* one scenario in this process: bench_core JOBS SHAPES NODES */
        return run(strtoull(argv[1], NULL, 10), strtoull(argv[2], NULL, 10),
                   strtoull(argv[3], NULL, 10));
    static const uint64_t jobs[] = { 10000, 100000, 1000000 };
    static const uint64_t nodes[] = { 1000, 10000 };
    printf("bench_core: one cb_core_decide(); 3 clouds x 4 flavors; half the nodes busy\n");
    printf("target: 100k jobs + 10k nodes <= 100 ms, <= 64 MB peak RSS\n");
    printf("%9s %9s %7s %9s %9s %9s %8s %8s %8s %6s\n", "jobs", "shapes", "nodes", "first_ms",
           "steady_ms", "wall_ms", "rss_MB", "core_MB", "actions", "boots");
    int rc = 0;
    for (size_t j = 0; j < 3; j++)
        for (size_t n = 0; n < 2; n++)
            for (int worst = 0; worst < 2; worst++) {
                fflush(stdout);
                pid_t pid = fork();
                if (pid < 0) {
                    perror("bench_core: fork");
                    return 1;
                }
                if (pid == 0) {
                    int r = run(jobs[j], worst ? jobs[j] : 48, nodes[n]);
                    fflush(stdout);
                    _exit(r);
                }
                int st;
                if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                    rc = 1;
            }
    printf("first/steady_ms: CPU time of the first decide after a restart and of the next one;\n"
           "wall_ms: wall time of the steady decide; rss_MB: peak RSS of the scenario's process\n"
           "(inputs + core); core_MB: peak growth during the decides\n");
    return rc;
}
