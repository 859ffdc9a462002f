/* bench_pool: parse and aggregate 1M idle jobs as condor_q prints them, in
 * the two formats the adapter could use, and print time and peak RSS.
 *
 *   af:t  - `condor_q -af:t ClusterId ProcId RequestCpus RequestMemory
 *           RequestDisk QDate Owner JobUniverse MaxWallTime RequestRuntime
 *           JobDurationEstimate <2 eligibility columns>` (the adapter's format)
 *   json  - `condor_q -json -attributes` with the same attributes in HTCondor
 *           25's layout ("[", one object per job with one attribute per line
 *           in case-insensitive order, "," lines, "]"), the two eligibility
 *           columns as booleans (which -json could not evaluate in reality)
 *
 * The output is generated on the fly in 64 KiB chunks, the way a pipe
 * delivers it, so the figures are the parser's, not a buffer's. Both formats
 * end in the same shape aggregator (pool_demand_line), so the difference is
 * the cost of reading the format. Each run is a forked child, so its peak RSS
 * (wait4) is its own. Targets (issue 4): af:t <= 1 s and <= 64 MB RSS for 1M
 * jobs. Prints figures; never fails on time.
 */
#include "pool_parse.h"

#include <json-c/json.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define JOBS 1000000u
#define CHUNK 65536

static const uint32_t cpus_v[] = {1, 1, 1, 2, 4, 8};
static const uint32_t mem_v[] = {2000, 2000, 4000, 8000, 16000};
static const uint32_t disk_v[] = {1000000, 5000000, 10240};

/* Job i's values: a few dozen shapes, as a real queue has. */
static void job_values(uint32_t i, uint32_t *cpus, uint32_t *mem, uint32_t *disk, int *wall,
                       bool *c0, bool *c1)
{
    *cpus = cpus_v[i % 6];
    *mem = mem_v[(i / 7) % 5];
    *disk = disk_v[(i / 11) % 3];
    *wall = (i % 4 == 0) ? 3600 * (1 + (int)(i % 3)) : -1;
    *c0 = (i % 5) != 0;
    *c1 = (i % 3) == 0 || !*c0;
}

static size_t gen_af(uint32_t i, char *out, size_t room)
{
    uint32_t cpus, mem, disk;
    int wall;
    bool c0, c1;
    job_values(i, &cpus, &mem, &disk, &wall, &c0, &c1);
    char w[16];
    if (wall > 0)
        snprintf(w, sizeof w, "%d", wall);
    else
        strcpy(w, "undefined");
    int n = snprintf(out, room,
                     "%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32
                     "\t%" PRIu32 "\tcmsprd%02u\t5\t%s\tundefined\tundefined\t%s\t%s\n",
                     1000 + i / 1000, i % 1000, cpus, mem, disk, 1795320000u + i / 100, i % 40,
                     w, c0 ? "true" : "false", c1 ? "true" : "false");
    return n > 0 && (size_t)n < room ? (size_t)n : 0;
}

static size_t gen_json(uint32_t i, char *out, size_t room)
{
    uint32_t cpus, mem, disk;
    int wall;
    bool c0, c1;
    job_values(i, &cpus, &mem, &disk, &wall, &c0, &c1);
    char w[40] = "";
    if (wall > 0)
        snprintf(w, sizeof w, "  \"MaxWallTime\": %d,\n", wall);
    int n = snprintf(out, room,
                     "%s{\n  \"ClusterId\": %" PRIu32 ",\n  \"Elig0\": %s,\n  \"Elig1\": %s,\n"
                     "  \"JobUniverse\": 5,\n%s  \"Owner\": \"cmsprd%02u\",\n"
                     "  \"ProcId\": %" PRIu32 ",\n  \"QDate\": %" PRIu32 ",\n"
                     "  \"RequestCpus\": %" PRIu32 ",\n  \"RequestDisk\": %" PRIu32 ",\n"
                     "  \"RequestMemory\": %" PRIu32 "\n}\n",
                     i == 0 ? "[\n" : ",\n", 1000 + i / 1000, c0 ? "true" : "false",
                     c1 ? "true" : "false", w, i % 40, i % 1000, 1795320000u + i / 100, cpus,
                     disk, mem);
    if (i == JOBS - 1 && n > 0 && (size_t)n + 2 < room)
        n += snprintf(out + n, room - (size_t)n, "]\n");
    return n > 0 && (size_t)n < room ? (size_t)n : 0;
}

/* JSON job ad -> the -af:t line the aggregator takes (same aggregation cost). */
static int json_job(void *ctx, const char *origin, struct json_object *ad, unsigned long lineno,
                    struct cb_err *err)
{
    int64_t v[8] = {0};
    static const char *const keys[] = {"ClusterId", "ProcId", "RequestCpus", "RequestMemory",
                                       "RequestDisk", "QDate", "JobUniverse", "MaxWallTime"};
    char wall[24] = "undefined";
    for (int k = 0; k < 7; k++)
        if (!pool_json_int(ad, keys[k], &v[k]))
            return cb_err_set(err, CB_ERR_INVALID, origin, "job without %s", keys[k]);
    if (pool_json_int(ad, "MaxWallTime", &v[7]))
        snprintf(wall, sizeof wall, "%" PRId64, v[7]);
    json_object *o, *e0, *e1;
    if (!json_object_object_get_ex(ad, "Owner", &o) ||
        !json_object_object_get_ex(ad, "Elig0", &e0) ||
        !json_object_object_get_ex(ad, "Elig1", &e1))
        return cb_err_set(err, CB_ERR_INVALID, origin, "job without Owner/eligibility");
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64
                     "\t%s\t%" PRId64 "\t%s\tundefined\tundefined\t%s\t%s",
                     v[0], v[1], v[2], v[3], v[4], v[5], json_object_get_string(o), v[6], wall,
                     json_object_get_boolean(e0) ? "true" : "false",
                     json_object_get_boolean(e1) ? "true" : "false");
    return pool_demand_line(ctx, origin, line, (size_t)n, lineno, err);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the child: generate and parse; print bytes, shapes, jobs, seconds. */
static int run(bool json)
{
    struct cb_err err = CB_ERR_INIT;
    struct cb_demand d = {0};
    struct pool_demand_parser p;
    struct pool_lines l;
    struct pool_json_stream js;
    char *chunk = malloc(CHUNK);
    if (chunk == NULL || pool_demand_init(&p, &d, 2, 3, &err) != 0)
        return 1;
    if (json ? pool_json_init(&js, "condor_q", json_job, &p, &err)
             : pool_lines_init(&l, "condor_q", POOL_MAX_LINE, pool_demand_line, &p, &err))
        return 1;
    /* Generation is timed separately and subtracted: it is not the parser's. */
    double gen = 0, t0 = now_s();
    uint64_t bytes = 0;
    uint32_t i = 0;
    int rc = 0;
    while (i < JOBS && rc == 0) {
        double g0 = now_s();
        size_t used = 0;
        while (i < JOBS) {
            size_t n = json ? gen_json(i, chunk + used, CHUNK - used)
                            : gen_af(i, chunk + used, CHUNK - used);
            if (n == 0)
                break;
            used += n;
            i++;
        }
        gen += now_s() - g0;
        bytes += used;
        rc = json ? pool_json_feed(&js, chunk, used, &err) : pool_lines_feed(&l, chunk, used, &err);
    }
    if (rc == 0)
        rc = json ? pool_json_finish(&js, &err) : pool_lines_finish(&l, &err);
    pool_demand_finish(&p);
    pool_demand_sort(&d);
    double total = now_s() - t0;
    if (rc != 0) {
        fprintf(stderr, "bench_pool: %s: %s\n", err.origin, err.msg);
        return 1;
    }
    printf("%-5s %7.1f MB of output  %8" PRIu64 " jobs -> %4zu shapes  parse+aggregate %.3f s"
           " (generating it: %.3f s)",
           json ? "json" : "af:t", (double)bytes / 1e6, d.idle_jobs, d.n, total - gen, gen);
    fflush(stdout);
    if (json)
        pool_json_free(&js);
    else
        pool_lines_free(&l);
    pool_demand_parser_free(&p);
    cb_demand_free(&d);
    free(chunk);
    return 0;
}

int main(void)
{
    printf("bench_pool: %u idle jobs, 2 clouds, streamed in %d-byte chunks\n", JOBS, CHUNK);
    fflush(stdout);
    for (int f = 0; f < 2; f++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(run(f == 1));
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0) {
            perror("wait4");
            return 1;
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("\n%s run failed\n", f == 1 ? "json" : "af:t");
            return 1;
        }
        printf("  peak RSS %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    }
    return 0;
}
