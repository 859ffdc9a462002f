/* trace: job traces for the simulator (SWF, GWF, condor_history -json / -af)
 * and the four generated stress traces. Every parser takes the whole text,
 * checks limits, and either fills the trace completely or leaves it empty with
 * an error naming "<origin>:<line>" and the field. */
#include "sim/sim.h"

#include "cb_text.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Plausible times: Unix seconds before year 5138, runs shorter than 31 years. */
#define SIM_TIME_MAX INT64_C(100000000000)
#define SIM_RUN_MAX INT64_C(1000000000)

static int trace_push(struct sim_trace *t, const struct sim_job *j, const char *origin,
                      struct cb_err *err)
{
    if (t->n >= SIM_TRACE_JOBS_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "more than %u jobs", SIM_TRACE_JOBS_MAX);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct sim_job *v = realloc(t->jobs, cap * sizeof *v);
        if (v == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        t->jobs = v;
        t->cap = cap;
    }
    t->jobs[t->n++] = *j;
    return 0;
}

void sim_trace_free(struct sim_trace *t)
{
    if (t == NULL)
        return;
    free(t->jobs);
    memset(t, 0, sizeof *t);
}

static int cmp_submit(const void *a, const void *b)
{
    const struct sim_job *x = a, *y = b;
    return (x->submit > y->submit) - (x->submit < y->submit);
}

/* Sort by submit time keeping the file order of equal times (traces are
 * almost sorted: a bounded insertion sort does it; qsort is the fallback for a
 * badly shuffled file), then make times relative to the first submit. */
static int trace_finish(struct sim_trace *t, const char *origin, struct cb_err *err)
{
    if (t->n == 0)
        return cb_err_set(err, CB_ERR_INVALID, origin, "no usable job in the trace");
    bool sorted = true;
    for (size_t i = 1; i < t->n && sorted; i++)
        sorted = t->jobs[i - 1].submit <= t->jobs[i].submit;
    if (!sorted) {
        for (size_t i = 1; i < t->n; i++) {
            struct sim_job j = t->jobs[i];
            size_t k = i;
            while (k > 0 && t->jobs[k - 1].submit > j.submit && i - k < 4096) {
                t->jobs[k] = t->jobs[k - 1];
                k--;
            }
            t->jobs[k] = j;
        }
        sorted = true;
        for (size_t i = 1; i < t->n && sorted; i++)
            sorted = t->jobs[i - 1].submit <= t->jobs[i].submit;
        if (!sorted)
            qsort(t->jobs, t->n, sizeof *t->jobs, cmp_submit);
    }
    int64_t t0 = t->jobs[0].submit;
    for (size_t i = 0; i < t->n; i++)
        t->jobs[i].submit -= t0;
    return 0;
}

/* Parse one decimal number token (integer or real); -1 when not a number. */
static int parse_num(const char *tok, size_t len, double *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return -1;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Split a line into whitespace-separated tokens (at most max). */
static size_t split_ws(const char *s, size_t len, const char **tok, size_t *tlen, size_t max)
{
    size_t n = 0, i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
            i++;
        if (i >= len)
            break;
        size_t b = i;
        while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            i++;
        if (n < max) {
            tok[n] = s + b;
            tlen[n] = i - b;
        }
        n++;
    }
    return n;
}

static const char *const swf_fields[] = {
    "job number", "submit time", "wait time", "run time", "allocated processors",
    "average CPU time", "used memory", "requested processors", "requested time",
    "requested memory", "status", "user id", "group id", "executable", "queue",
    "partition", "preceding job", "think time",
};

/* SWF (18 fields) and GWF (>= 11 leading SWF-compatible fields; later GWF
 * columns may be text). Comments: ';' (SWF) or '#' (GWF). */
static int parse_swf_like(struct sim_trace *t, bool gwf, const char *data, size_t size,
                          const char *origin, struct cb_err *err)
{
    size_t lineno = 0, pos = 0;
    char where[CB_ERR_ORIGIN_MAX];
    while (pos < size) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *line = data + pos;
        pos += len + (nl ? 1 : 0);
        lineno++;
        snprintf(where, sizeof where, "%s:%zu", origin, lineno);
        if (len > SIM_TRACE_LINE_MAX)
            return cb_err_set(err, CB_ERR_INVALID, where, "line longer than %d bytes",
                              SIM_TRACE_LINE_MAX);
        if (memchr(line, '\0', len) != NULL)
            return cb_err_set(err, CB_ERR_INVALID, where, "NUL byte in a text trace");
        size_t i = 0;
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i == len || line[i] == ';' || line[i] == '#')
            continue;
        const char *tok[32];
        size_t tlen[32];
        size_t nt = split_ws(line, len, tok, tlen, 32);
        if (!gwf && nt != 18)
            return cb_err_set(err, CB_ERR_INVALID, where,
                              "SWF record has %zu fields, expected 18", nt);
        if (gwf && nt < 11)
            return cb_err_set(err, CB_ERR_INVALID, where,
                              "GWF record has %zu fields, expected at least 11", nt);
        double f[18];
        size_t need = gwf ? 11 : 18;
        for (size_t k = 0; k < need; k++) {
            if (parse_num(tok[k], tlen[k], &f[k]) != 0) {
                char shown[40];
                size_t l = tlen[k] < 32 ? tlen[k] : 32;
                char raw[40];
                memcpy(raw, tok[k], l);
                raw[l] = '\0';
                cb_sanitize(shown, sizeof shown, raw);
                return cb_err_set(err, CB_ERR_INVALID, where, "field %zu (%s): '%s' is not a number",
                                  k + 1, swf_fields[k], shown);
            }
        }
        if (f[1] < 0 || f[1] > SIM_TIME_MAX)
            return cb_err_set(err, CB_ERR_INVALID, where, "field 2 (submit time): %.0f out of range",
                              f[1]);
        double run = f[3];
        double procs = f[4] > 0 ? f[4] : f[7];
        if (run < 0 || procs < 1) { /* cancelled before it ran, or no size: not a job to replay */
            t->skipped++;
            continue;
        }
        if (run > SIM_RUN_MAX || procs > 1e6)
            return cb_err_set(err, CB_ERR_INVALID, where, "run time or processors out of range");
        struct sim_job j = { 0 };
        j.submit = (int64_t)f[1];
        j.runtime = run < 1 ? 1 : (int64_t)run;
        j.cpus = (uint32_t)procs;
        double mem_kb = f[9] > 0 ? f[9] : f[6]; /* per processor, KB */
        j.memory_mb = mem_kb > 0 && mem_kb < 1e12 ? (uint64_t)(mem_kb / 1024.0 * j.cpus)
                                                  : (uint64_t)SIM_DEFAULT_MEM_PER_CORE * j.cpus;
        if (j.memory_mb == 0)
            j.memory_mb = 1;
        if (trace_push(t, &j, where, err) != 0)
            return -1;
    }
    return trace_finish(t, origin, err);
}

static int64_t json_int(json_object *o, const char *key, bool *present)
{
    json_object *v;
    *present = json_object_object_get_ex(o, key, &v) && v != NULL;
    if (!*present)
        return 0;
    return json_object_get_int64(v);
}

/* condor_history -json: an array of job ads. Uses QDate, JobStartDate,
 * CompletionDate (or RemoteWallClockTime), RequestCpus, RequestMemory. */
static int parse_condor_json(struct sim_trace *t, const char *data, size_t size,
                             const char *origin, struct cb_err *err)
{
    json_tokener *tk = json_tokener_new_ex(64);
    if (tk == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    json_object *root = json_tokener_parse_ex(tk, data, (int)size);
    enum json_tokener_error je = json_tokener_get_error(tk);
    if (root == NULL || je != json_tokener_success) {
        /* find the line of the failure */
        size_t off = json_tokener_get_parse_end(tk), line = 1;
        for (size_t i = 0; i < off && i < size; i++)
            line += data[i] == '\n';
        char where[CB_ERR_ORIGIN_MAX];
        snprintf(where, sizeof where, "%s:%zu", origin, line);
        json_tokener_free(tk);
        json_object_put(root);
        return cb_err_set(err, CB_ERR_INVALID, where, "condor_history -json: %s",
                          root == NULL && je == json_tokener_success ? "empty input"
                                                                     : json_tokener_error_desc(je));
    }
    json_tokener_free(tk);
    int rc = 0;
    char where[CB_ERR_ORIGIN_MAX];
    if (!json_object_is_type(root, json_type_array)) {
        rc = cb_err_set(err, CB_ERR_INVALID, origin, "condor_history -json: expected an array of job ads");
        goto out;
    }
    size_t n = json_object_array_length(root);
    for (size_t i = 0; i < n; i++) {
        json_object *ad = json_object_array_get_idx(root, i);
        snprintf(where, sizeof where, "%s:ad %zu", origin, i + 1);
        if (!json_object_is_type(ad, json_type_object)) {
            rc = cb_err_set(err, CB_ERR_INVALID, where, "not a job ad");
            goto out;
        }
        bool pq, ps, pc, pw, pcpu, pm;
        int64_t q = json_int(ad, "QDate", &pq);
        int64_t s = json_int(ad, "JobStartDate", &ps);
        int64_t c = json_int(ad, "CompletionDate", &pc);
        int64_t w = json_int(ad, "RemoteWallClockTime", &pw);
        int64_t cpus = json_int(ad, "RequestCpus", &pcpu);
        int64_t mem = json_int(ad, "RequestMemory", &pm);
        if (!pq || q <= 0 || q > SIM_TIME_MAX) {
            rc = cb_err_set(err, CB_ERR_INVALID, where, "QDate missing or out of range");
            goto out;
        }
        int64_t run = (ps && pc && c > 0 && s > 0 && c >= s && c <= SIM_TIME_MAX) ? c - s
                      : (pw && w >= 0 && w <= SIM_RUN_MAX ? w : -1);
        if (run < 0) {
            t->skipped++;
            continue;
        }
        struct sim_job j = { .submit = q, .runtime = run < 1 ? 1 : run,
                             .cpus = pcpu && cpus > 0 && cpus < 100000 ? (uint32_t)cpus : 1 };
        j.memory_mb = pm && mem > 0 && mem < (INT64_C(1) << 40) ? (uint64_t)mem
                                                                 : (uint64_t)SIM_DEFAULT_MEM_PER_CORE * j.cpus;
        if (trace_push(t, &j, where, err) != 0) {
            rc = -1;
            goto out;
        }
    }
    rc = trace_finish(t, origin, err);
out:
    json_object_put(root);
    return rc;
}

/* condor_history -af QDate JobStartDate CompletionDate RequestCpus RequestMemory [RequestDisk]:
 * whitespace-separated, "undefined" allowed for the start/completion of jobs
 * that never ran (skipped). */
static int parse_condor_af(struct sim_trace *t, const char *data, size_t size, const char *origin,
                           struct cb_err *err)
{
    static const char *const names[] = { "QDate", "JobStartDate", "CompletionDate", "RequestCpus",
                                         "RequestMemory", "RequestDisk" };
    size_t lineno = 0, pos = 0;
    char where[CB_ERR_ORIGIN_MAX];
    while (pos < size) {
        const char *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
        const char *line = data + pos;
        pos += len + (nl ? 1 : 0);
        lineno++;
        snprintf(where, sizeof where, "%s:%zu", origin, lineno);
        if (len > SIM_TRACE_LINE_MAX)
            return cb_err_set(err, CB_ERR_INVALID, where, "line longer than %d bytes",
                              SIM_TRACE_LINE_MAX);
        const char *tok[8];
        size_t tlen[8];
        size_t nt = split_ws(line, len, tok, tlen, 8);
        if (nt == 0 || tok[0][0] == '#')
            continue;
        if (nt != 5 && nt != 6)
            return cb_err_set(err, CB_ERR_INVALID, where,
                              "condor_history -af: %zu columns, expected 5 or 6 (QDate JobStartDate "
                              "CompletionDate RequestCpus RequestMemory [RequestDisk])", nt);
        double f[6] = { 0 };
        bool undef[6] = { false };
        for (size_t k = 0; k < nt; k++) {
            if (tlen[k] == 9 && memcmp(tok[k], "undefined", 9) == 0) {
                undef[k] = true;
                continue;
            }
            if (parse_num(tok[k], tlen[k], &f[k]) != 0)
                return cb_err_set(err, CB_ERR_INVALID, where, "column %zu (%s) is not a number",
                                  k + 1, names[k]);
        }
        if (undef[0] || f[0] <= 0 || f[0] > SIM_TIME_MAX)
            return cb_err_set(err, CB_ERR_INVALID, where, "column 1 (QDate) missing or out of range");
        if (undef[1] || undef[2] || f[1] <= 0 || f[2] < f[1] || f[2] > SIM_TIME_MAX) {
            t->skipped++;
            continue;
        }
        struct sim_job j = { .submit = (int64_t)f[0], .runtime = (int64_t)(f[2] - f[1]) };
        if (j.runtime < 1)
            j.runtime = 1;
        j.cpus = !undef[3] && f[3] >= 1 && f[3] < 100000 ? (uint32_t)f[3] : 1;
        j.memory_mb = !undef[4] && f[4] >= 1 && f[4] < 1e12 ? (uint64_t)f[4]
                                                            : (uint64_t)SIM_DEFAULT_MEM_PER_CORE * j.cpus;
        if (trace_push(t, &j, where, err) != 0)
            return -1;
    }
    return trace_finish(t, origin, err);
}

int sim_trace_parse(struct sim_trace *t, enum sim_trace_format fmt, const char *data, size_t size,
                    const char *origin, struct cb_err *err)
{
    memset(t, 0, sizeof *t);
    if (size > SIM_TRACE_BYTES_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "trace larger than %zu bytes",
                          SIM_TRACE_BYTES_MAX);
    int rc;
    switch (fmt) {
    case SIM_FMT_SWF: rc = parse_swf_like(t, false, data, size, origin, err); break;
    case SIM_FMT_GWF: rc = parse_swf_like(t, true, data, size, origin, err); break;
    case SIM_FMT_CONDOR_JSON: rc = parse_condor_json(t, data, size, origin, err); break;
    case SIM_FMT_CONDOR_AF: rc = parse_condor_af(t, data, size, origin, err); break;
    default: rc = cb_err_set(err, CB_ERR_INVALID, origin, "unknown trace format");
    }
    if (rc != 0)
        sim_trace_free(t); /* nothing half-loaded */
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int sim_trace_load(struct sim_trace *t, const char *path, enum sim_trace_format fmt,
                   struct cb_err *err)
{
    memset(t, 0, sizeof *t);
    char base[512];
    cb_sanitize(base, sizeof base, path);
    if (ends_with(base, ".gz"))
        base[strlen(base) - 3] = '\0';
    if (fmt == SIM_FMT_AUTO) {
        if (ends_with(base, ".swf"))
            fmt = SIM_FMT_SWF;
        else if (ends_with(base, ".gwf"))
            fmt = SIM_FMT_GWF;
        else if (ends_with(base, ".json"))
            fmt = SIM_FMT_CONDOR_JSON;
        else if (ends_with(base, ".af") || ends_with(base, ".txt"))
            fmt = SIM_FMT_CONDOR_AF;
        else
            return cb_err_set(err, CB_ERR_INVALID, base,
                              "cannot tell the trace format from the name (.swf, .gwf, .json, .af; "
                              "optionally .gz)");
    }
    gzFile gz = gzopen(path, "rb");
    if (gz == NULL)
        return cb_err_errno(err, CB_ERR_IO, errno, base, "cannot open trace");
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL) {
        gzclose(gz);
        return cb_err_set(err, CB_ERR_INTERNAL, base, "out of memory");
    }
    for (;;) {
        if (n == cap) {
            if (cap >= SIM_TRACE_BYTES_MAX) {
                free(buf);
                gzclose(gz);
                return cb_err_set(err, CB_ERR_INVALID, base, "trace larger than %zu bytes",
                                  SIM_TRACE_BYTES_MAX);
            }
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                gzclose(gz);
                return cb_err_set(err, CB_ERR_INTERNAL, base, "out of memory");
            }
            buf = nb;
            cap *= 2;
        }
        int r = gzread(gz, buf + n, (unsigned)(cap - n > (1u << 30) ? (1u << 30) : cap - n));
        if (r < 0) {
            int zerr;
            const char *msg = gzerror(gz, &zerr);
            cb_err_set(err, CB_ERR_IO, base, "cannot read trace: %s", msg);
            free(buf);
            gzclose(gz);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    gzclose(gz);
    const char *slash = strrchr(base, '/');
    int rc = sim_trace_parse(t, fmt, buf, n, slash ? slash + 1 : base, err);
    free(buf);
    if (rc == 0) {
        cb_strlcpy(t->name, slash ? slash + 1 : base, sizeof t->name);
        char *dot = strchr(t->name, '.');
        if (dot != NULL)
            *dot = '\0';
    }
    return rc;
}

int sim_trace_slice(struct sim_trace *t, int64_t seconds, struct cb_err *err)
{
    size_t k = 0;
    while (k < t->n && t->jobs[k].submit < seconds)
        k++;
    if (k == 0)
        return cb_err_set(err, CB_ERR_INVALID, t->name, "no job in the first %" PRId64 " s", seconds);
    t->n = k;
    return 0;
}

/* ---- generated stress traces ---------------------------------------------- */

int sim_trace_generate(struct sim_trace *t, const char *kind, uint64_t seed, struct cb_err *err)
{
    memset(t, 0, sizeof *t);
    struct sim_rng rng;
    sim_rng_seed(&rng, seed);
    struct sim_job j = { .cpus = 1, .memory_mb = SIM_DEFAULT_MEM_PER_CORE };
    int rc = 0;
    if (strcmp(kind, "burst") == 0) {
        /* (a) step burst: 2,000 one-core jobs at t=0, 30-60 min each */
        for (int i = 0; i < 2000 && rc == 0; i++) {
            j.submit = 0;
            j.runtime = 1800 + (int64_t)(sim_rng_uniform(&rng) * 1800);
            rc = trace_push(t, &j, kind, err);
        }
    } else if (strcmp(kind, "diurnal") == 0) {
        /* (b) diurnal wave: Poisson arrivals at 0.05 + 0.45 (1 - cos) / 2 jobs/s
         * (peak ~0.5/s at mid-day), 1-core jobs of 1-3 h, over 3 days */
        double now = 0;
        while (now < 3 * 86400.0 && rc == 0) {
            double rate_max = 0.5;
            now += sim_rng_exp(&rng, rate_max);
            double rate = 0.05 + 0.45 * (1 - cos(2 * M_PI * now / 86400.0)) / 2;
            if (sim_rng_uniform(&rng) * rate_max > rate)
                continue; /* thinning */
            j.submit = (int64_t)now;
            j.runtime = 3600 + (int64_t)(sim_rng_uniform(&rng) * 7200);
            rc = trace_push(t, &j, kind, err);
        }
    } else if (strcmp(kind, "long") == 0) {
        /* (c) long tail: 200 8-core 24 h jobs arriving over 12 h */
        j.cpus = 8;
        j.memory_mb = 8 * (uint64_t)SIM_DEFAULT_MEM_PER_CORE;
        for (int i = 0; i < 200 && rc == 0; i++) {
            j.submit = (int64_t)(sim_rng_uniform(&rng) * 43200);
            j.runtime = 86400;
            rc = trace_push(t, &j, kind, err);
        }
    } else if (strcmp(kind, "sparse") == 0) {
        /* (d) sparse single jobs, 2-6 h apart, 10-30 min each, over 4 days */
        double now = 0;
        while (now < 4 * 86400.0 && rc == 0) {
            j.submit = (int64_t)now;
            j.runtime = 600 + (int64_t)(sim_rng_uniform(&rng) * 1200);
            rc = trace_push(t, &j, kind, err);
            now += 7200 + sim_rng_uniform(&rng) * 14400;
        }
    } else {
        return cb_err_set(err, CB_ERR_INVALID, kind,
                          "unknown generated trace (burst, diurnal, long, sparse)");
    }
    if (rc == 0)
        rc = trace_finish(t, kind, err);
    if (rc != 0) {
        sim_trace_free(t);
        return -1;
    }
    cb_strlcpy(t->name, kind, sizeof t->name);
    return 0;
}

/* ---- PRNG ---------------------------------------------------------------- */

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    uint64_t z = seed;
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        z += UINT64_C(0x9e3779b97f4a7c15);
        uint64_t x = z;
        x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
        r->s[i] = x ^ (x >> 31);
    }
}

uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

double sim_rng_uniform(struct sim_rng *r) { return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53; }

double sim_rng_normal(struct sim_rng *r)
{
    double u1 = sim_rng_uniform(r), u2 = sim_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

double sim_rng_exp(struct sim_rng *r, double rate)
{
    double u = sim_rng_uniform(r);
    return -log(1 - u) / rate;
}
