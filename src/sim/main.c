/* cloudburst-sim: replay a job trace against the cloudburst core and the peer
 * baselines on a simulated HTCondor pool and clouds; print the comparison. */
#include "sim/sim.h"

#include "cb_text.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs("usage: cloudburst-sim [options] TRACE\n"
          "       cloudburst-sim --demo [TRACE]\n"
          "TRACE: a .swf/.gwf/.json (condor_history -json)/.af (condor_history -af) file,\n"
          "       optionally .gz, or gen:burst, gen:diurnal, gen:long, gen:sparse\n"
          "  --compare all|NAME,NAME  policies to compare (default: all)\n"
          "  --policy NAME            run one policy (plus the oracle)\n"
          "  --list                   list the policies and what each follows\n"
          "  --svg FILE               write the plot (queue, cores busy, cores provisioned)\n"
          "  --json                   JSON instead of the table\n"
          "  --breakdown              also where the core-hours went (booting, idle,\n"
          "                           partial, draining, busy)\n"
          "  --seed N                 PRNG seed (default 1)\n"
          "  --format swf|gwf|json|af trace format (default: from the file name)\n"
          "  --slice SECONDS          replay only jobs submitted in the first SECONDS\n"
          "  --demo                   demo: all policies on TRACE (default gen:burst),\n"
          "                           SVG in ./cloudburst-sim-demo.svg unless --svg\n"
          "cloud model:\n"
          "  --boot-median S --boot-p90 S   boot-to-join latency, log-normal (180, 420)\n"
          "  --api-latency S          boot call to instance (5)\n"
          "  --blackhole P            VMs that never join (0.02)\n"
          "  --api-error P            failed boot calls (0.01)\n"
          "  --billing second|hour    (second)\n"
          "  --spot-rate R            preemptions per node-hour (0)\n"
          "  --quota-cores N          cloud core quota (6000; 0 = none)\n"
          "  --max-flavor-cpus N      offer only flavors up to N cores (default: all,\n"
          "                           c4 c8 c16 c32 c64 c128 at one price per core)\n"
          "pool model:\n"
          "  --static-nodes N --static-cpus C   site's own workers (0 x 16)\n"
          "  --mode transparent|exclusive       which jobs may run on cloud nodes\n"
          "  --cloud-share F          exclusive mode: share of jobs that ask (1.0)\n"
          "  --negotiator S           negotiator cycle (60)\n"
          "  --cycle S                cloudburst's controller.cycle_interval (60)\n"
          "cloudburst policy:\n"
          "  --set KNOB=VALUE         change one of cloudburst's numeric knobs from its\n"
          "                           default (docs/policy.md), e.g. idle_timeout=900\n"
          "  --help\n",
          f);
}

static int num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < lo || v > hi) {
        char clean[64];
        cb_sanitize(clean, sizeof clean, s);
        fprintf(stderr, "cloudburst-sim: --%s: '%s' is not a number in [%g, %g]\n", opt, clean, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

enum { O_COMPARE = 256, O_POLICY, O_SVG, O_JSON, O_SEED, O_FORMAT, O_SLICE, O_DEMO, O_BMED, O_BP90,
       O_APILAT, O_BH, O_APIERR, O_BILL, O_SPOT, O_QUOTA, O_SNODES, O_SCPUS, O_MODE, O_SHARE, O_NEG,
       O_HELP, O_LIST, O_MAXFL, O_CYCLE, O_BREAKDOWN, O_SET };

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "compare", required_argument, NULL, O_COMPARE }, { "policy", required_argument, NULL, O_POLICY },
        { "svg", required_argument, NULL, O_SVG }, { "json", no_argument, NULL, O_JSON },
        { "seed", required_argument, NULL, O_SEED }, { "format", required_argument, NULL, O_FORMAT },
        { "slice", required_argument, NULL, O_SLICE }, { "demo", no_argument, NULL, O_DEMO },
        { "boot-median", required_argument, NULL, O_BMED }, { "boot-p90", required_argument, NULL, O_BP90 },
        { "api-latency", required_argument, NULL, O_APILAT }, { "blackhole", required_argument, NULL, O_BH },
        { "api-error", required_argument, NULL, O_APIERR }, { "billing", required_argument, NULL, O_BILL },
        { "spot-rate", required_argument, NULL, O_SPOT }, { "quota-cores", required_argument, NULL, O_QUOTA },
        { "static-nodes", required_argument, NULL, O_SNODES }, { "static-cpus", required_argument, NULL, O_SCPUS },
        { "mode", required_argument, NULL, O_MODE }, { "cloud-share", required_argument, NULL, O_SHARE },
        { "negotiator", required_argument, NULL, O_NEG }, { "help", no_argument, NULL, O_HELP },
        { "list", no_argument, NULL, O_LIST }, { "max-flavor-cpus", required_argument, NULL, O_MAXFL },
        { "cycle", required_argument, NULL, O_CYCLE },
        { "breakdown", no_argument, NULL, O_BREAKDOWN },
        { "set", required_argument, NULL, O_SET },
        { NULL, 0, NULL, 0 },
    };
    struct sim_model m;
    sim_model_defaults(&m);
    struct sim_cloud *c = &m.clouds[0];
    const char *compare = "all", *svg = NULL;
    bool json = false, demo = false, breakdown = false;
    enum sim_trace_format fmt = SIM_FMT_AUTO;
    double slice = 0, v;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char *name = o >= O_COMPARE && o <= O_SET ? opts[o - O_COMPARE].name : "?";
        switch (o) {
        case O_COMPARE: compare = optarg; break;
        case O_POLICY: compare = optarg; break;
        case O_SVG: svg = optarg; break;
        case O_JSON: json = true; break;
        case O_BREAKDOWN: breakdown = true; break;
        case O_SET: {
            struct cb_err kerr = CB_ERR_INIT;
            char kb[700];
            if (sim_model_set_knob(&m, optarg, &kerr) != 0) {
                fprintf(stderr, "cloudburst-sim: --set: %s\n", cb_err_format(&kerr, kb, sizeof kb));
                return 2;
            }
            break;
        }
        case O_DEMO: demo = true; break;
        case O_HELP: usage(stdout); return 0;
        case O_LIST:
            for (size_t i = 0; i < sim_policy_count(); i++)
                printf("%-18s every %3us  follows %s\n", sim_policy_at(i)->name,
                       sim_policy_at(i)->interval ? sim_policy_at(i)->interval : m.core_cycle,
                       sim_policy_at(i)->follows);
            printf("%-18s offline bound: every job starts when submitted, capacity exists exactly "
                   "while needed\n", "oracle");
            return 0;
        case O_SEED: if (num(name, optarg, 0, 1e15, &v)) return 2; m.seed = (uint64_t)v; break;
        case O_SLICE: if (num(name, optarg, 1, 1e9, &slice)) return 2; break;
        case O_BMED: if (num(name, optarg, 1, 86400, &c->boot_median)) return 2; break;
        case O_BP90: if (num(name, optarg, 1, 86400, &c->boot_p90)) return 2; break;
        case O_APILAT: if (num(name, optarg, 0, 3600, &c->api_latency)) return 2; break;
        case O_BH: if (num(name, optarg, 0, 1, &c->blackhole)) return 2; break;
        case O_APIERR: if (num(name, optarg, 0, 1, &c->api_error)) return 2; break;
        case O_SPOT: if (num(name, optarg, 0, 100, &c->spot_rate)) return 2; break;
        case O_QUOTA: if (num(name, optarg, 0, 1e8, &v)) return 2; c->quota_cores = (uint32_t)v; break;
        case O_SNODES: if (num(name, optarg, 0, 1e5, &v)) return 2; m.static_nodes = (uint32_t)v; break;
        case O_SCPUS:
            if (num(name, optarg, 1, 1024, &v)) return 2;
            m.static_cpus = (uint32_t)v;
            m.static_mem_mb = (uint64_t)v * 2048;
            break;
        case O_MAXFL: {
            if (num(name, optarg, 1, 1e6, &v)) return 2;
            size_t k = 0;
            for (size_t i = 0; i < c->n_flavors; i++)
                if (c->flavors[i].cpus <= v)
                    c->flavors[k++] = c->flavors[i];
            if (k == 0) {
                fputs("cloudburst-sim: --max-flavor-cpus: no flavor left\n", stderr);
                return 2;
            }
            c->n_flavors = k;
            break;
        }
        case O_SHARE: if (num(name, optarg, 0, 1, &m.cloud_share)) return 2; break;
        case O_CYCLE: if (num(name, optarg, 5, 3600, &v)) return 2; m.core_cycle = (uint32_t)v; break;
        case O_NEG: if (num(name, optarg, 1, 3600, &v)) return 2; m.negotiator_interval = (uint32_t)v; break;
        case O_BILL:
            if (strcmp(optarg, "second") == 0) c->per_hour = false;
            else if (strcmp(optarg, "hour") == 0) c->per_hour = true;
            else { fputs("cloudburst-sim: --billing: second or hour\n", stderr); return 2; }
            break;
        case O_MODE:
            if (strcmp(optarg, "transparent") == 0) m.exclusive = false;
            else if (strcmp(optarg, "exclusive") == 0) m.exclusive = true;
            else { fputs("cloudburst-sim: --mode: transparent or exclusive\n", stderr); return 2; }
            break;
        case O_FORMAT:
            if (strcmp(optarg, "swf") == 0) fmt = SIM_FMT_SWF;
            else if (strcmp(optarg, "gwf") == 0) fmt = SIM_FMT_GWF;
            else if (strcmp(optarg, "json") == 0) fmt = SIM_FMT_CONDOR_JSON;
            else if (strcmp(optarg, "af") == 0) fmt = SIM_FMT_CONDOR_AF;
            else { fputs("cloudburst-sim: --format: swf, gwf, json or af\n", stderr); return 2; }
            break;
        default: usage(stderr); return 2;
        }
    }
    if (c->boot_p90 < c->boot_median) {
        fputs("cloudburst-sim: --boot-p90 must be >= --boot-median\n", stderr);
        return 2;
    }
    /* --demo [TRACE]: the embedded burst unless a trace is named */
    const char *trace_arg = optind < argc ? argv[optind] : demo ? "gen:burst" : NULL;
    if (trace_arg == NULL || optind + 1 < argc) {
        usage(stderr);
        return 2;
    }
    if (demo && svg == NULL)
        svg = "cloudburst-sim-demo.svg";
    /* which policies */
    const struct sim_policy_ops *sel[32];
    size_t nsel = 0;
    if (strcmp(compare, "all") == 0) {
        for (size_t i = 0; i < sim_policy_count() && nsel < 32; i++)
            sel[nsel++] = sim_policy_at(i);
    } else {
        char buf[512];
        cb_strlcpy(buf, compare, sizeof buf);
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            const struct sim_policy_ops *p = sim_policy_find(tok);
            if (p == NULL) {
                char clean[64];
                cb_sanitize(clean, sizeof clean, tok);
                fprintf(stderr, "cloudburst-sim: unknown policy '%s' (--list shows them)\n", clean);
                return 2;
            }
            if (nsel < 32)
                sel[nsel++] = p;
        }
    }
    struct cb_err err = CB_ERR_INIT;
    char eb[700];
    struct sim_trace t;
    int rc = strncmp(trace_arg, "gen:", 4) == 0
                 ? sim_trace_generate(&t, trace_arg + 4, m.seed, &err)
                 : sim_trace_load(&t, trace_arg, fmt, &err);
    if (rc == 0 && slice > 0)
        rc = sim_trace_slice(&t, (int64_t)slice, &err);
    if (rc != 0) {
        fprintf(stderr, "cloudburst-sim: %s\n", cb_err_format(&err, eb, sizeof eb));
        sim_trace_free(&t);
        return 1;
    }
    struct sim_result res[33];
    size_t nres = 0;
    int status = 0;
    if (sim_oracle(&t, &m, &res[nres], &err) == 0)
        nres++;
    for (size_t i = 0; i < nsel && status == 0; i++) {
        if (!json)
            fprintf(stderr, "cloudburst-sim: running %s on %s (%zu jobs)...\n", sel[i]->name, t.name, t.n);
        if (sim_run(&t, &m, sel[i], &res[nres], &err) != 0) {
            fprintf(stderr, "cloudburst-sim: %s: %s\n", sel[i]->name, cb_err_format(&err, eb, sizeof eb));
            status = 1;
            break;
        }
        nres++;
    }
    if (status == 0) {
        if (json)
            sim_print_json(stdout, t.name, &m, res, nres);
        else
            sim_print_table(stdout, t.name, res, nres);
        if (breakdown && !json)
            sim_print_breakdown(stdout, res, nres);
        if (svg != NULL) {
            if (sim_write_svg(svg, t.name, res, nres, &err) != 0) {
                fprintf(stderr, "cloudburst-sim: %s\n", cb_err_format(&err, eb, sizeof eb));
                status = 1;
            } else if (!json) {
                char clean[4096], *abs = realpath(svg, NULL);
                cb_sanitize(clean, sizeof clean, abs != NULL ? abs : svg);
                free(abs);
                printf("plot: %s (open it in a browser)\n", clean);
            }
        }
    }
    for (size_t i = 0; i < nres; i++)
        sim_result_free(&res[i]);
    sim_trace_free(&t);
    return status;
}
