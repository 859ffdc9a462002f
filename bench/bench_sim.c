/* bench_sim: simulator throughput on a 1M-job trace (issue 3 §6: <= 30 s).
 *
 * The trace is the real LCG-2005-1 grid trace (188,041 jobs over 11 days)
 * repeated back to back with shifted submit times until it holds 1,000,000
 * jobs (about 58 days of a large grid site). Each policy is replayed once
 * (cloudburst = the real core, cluster-autoscaler, slurm) plus the oracle;
 * the figures are CPU time (the machine is shared), wall time, simulated jobs
 * per second and the peak RSS of the process. Prints figures; never fails on
 * time.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifndef CB_TOP_SRCDIR
#define CB_TOP_SRCDIR "."
#endif

#define TARGET_JOBS 1000000u

static double secs(clockid_t clk)
{
    struct timespec t;
    clock_gettime(clk, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

int main(void)
{
    char path[4096];
    const char *top = getenv("top_srcdir");
    snprintf(path, sizeof path, "%s/tests/fixtures/traces/LCG-2005-1/LCG-2005-1.swf.gz",
             top ? top : CB_TOP_SRCDIR);
    struct sim_trace base, big;
    struct cb_err err = CB_ERR_INIT;
    double c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
    if (sim_trace_load(&base, path, SIM_FMT_AUTO, &err) != 0) {
        fprintf(stderr, "bench_sim: %s: %s\n", err.origin, err.msg);
        return 1;
    }
    double load = secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
    memset(&big, 0, sizeof big);
    big.jobs = malloc(TARGET_JOBS * sizeof *big.jobs);
    if (big.jobs == NULL) {
        fputs("bench_sim: out of memory\n", stderr);
        return 1;
    }
    int64_t span = base.jobs[base.n - 1].submit + 60;
    for (size_t rep = 0; big.n < TARGET_JOBS; rep++)
        for (size_t i = 0; i < base.n && big.n < TARGET_JOBS; i++) {
            big.jobs[big.n] = base.jobs[i];
            big.jobs[big.n++].submit += (int64_t)rep * span;
        }
    big.cap = big.n;
    snprintf(big.name, sizeof big.name, "LCG-x%.1f", (double)big.n / (double)base.n);
    printf("bench_sim: trace %s, %zu jobs over %.1f days (LCG parse: %.2f s CPU for %zu jobs)\n",
           big.name, big.n, (double)big.jobs[big.n - 1].submit / 86400, load, base.n);
    struct sim_model m;
    sim_model_defaults(&m);
    static const char *const names[] = { "cloudburst", "cluster-autoscaler", "slurm" };
    printf("%-20s %10s %10s %12s %12s %8s\n", "policy", "cpu-s", "wall-s", "jobs/s(cpu)",
           "core-h-prov", "killed");
    double w0 = secs(CLOCK_MONOTONIC);
    c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
    struct sim_result r;
    if (sim_oracle(&big, &m, &r, &err) != 0) {
        fprintf(stderr, "bench_sim: oracle: %s\n", err.msg);
        return 1;
    }
    double c1 = secs(CLOCK_PROCESS_CPUTIME_ID), w1 = secs(CLOCK_MONOTONIC);
    printf("%-20s %10.2f %10.2f %12.0f %12.0f %8llu\n", "oracle", c1 - c0, w1 - w0,
           (double)big.n / (c1 - c0 > 1e-9 ? c1 - c0 : 1e-9), r.core_hours_prov,
           (unsigned long long)r.killed);
    sim_result_free(&r);
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        w0 = secs(CLOCK_MONOTONIC);
        c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
        if (sim_run(&big, &m, sim_policy_find(names[k]), &r, &err) != 0) {
            fprintf(stderr, "bench_sim: %s: %s\n", names[k], err.msg);
            return 1;
        }
        c1 = secs(CLOCK_PROCESS_CPUTIME_ID);
        w1 = secs(CLOCK_MONOTONIC);
        printf("%-20s %10.2f %10.2f %12.0f %12.0f %8llu%s\n", names[k], c1 - c0, w1 - w0,
               (double)big.n / (c1 - c0), r.core_hours_prov, (unsigned long long)r.killed,
               c1 - c0 <= 30 ? "" : "  (target 30 s missed)");
        sim_result_free(&r);
    }
    printf("bench_sim: peak RSS %ld MB; target: 1M jobs simulated in <= 30 s per policy\n",
           peak_rss_mb());
    sim_trace_free(&base);
    sim_trace_free(&big);
    return 0;
}
