/* pool_parse: condor tool output -> observations. See pool_parse.h. */
#include "pool_parse.h"

#include "cb_text.h"

#include <json-c/json.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- line splitter --------------------------------------------------- */

int pool_lines_init(struct pool_lines *l, const char *origin, size_t max_line, pool_line_fn fn,
                    void *ctx, struct cb_err *err)
{
    memset(l, 0, sizeof *l);
    l->buf = malloc(max_line + 1);
    if (l->buf == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    l->max = max_line;
    l->origin = origin;
    l->fn = fn;
    l->ctx = ctx;
    return 0;
}

static int lines_fail(struct pool_lines *l)
{
    l->failed = true;
    return -1;
}

static int lines_too_long(struct pool_lines *l, struct cb_err *err)
{
    char where[CB_ERR_ORIGIN_MAX];
    snprintf(where, sizeof where, "%s:%lu", l->origin, l->lineno + 1);
    cb_err_set(err, CB_ERR_INVALID, where, "output line longer than %zu bytes", l->max);
    return lines_fail(l);
}

int pool_lines_feed(struct pool_lines *l, const char *data, size_t n, struct cb_err *err)
{
    if (l->failed)
        return -1;
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t take = nl != NULL ? (size_t)(nl - data) : n;
        if (l->len + take > l->max)
            return lines_too_long(l, err);
        if (nl == NULL) {
            /* Keep the partial line until the next chunk. */
            memcpy(l->buf + l->len, data, take);
            l->len += take;
            return 0;
        }
        memcpy(l->buf + l->len, data, take);
        size_t len = l->len + take;
        l->buf[len] = '\0';
        l->len = 0;
        l->lineno++;
        if (l->fn(l->ctx, l->origin, l->buf, len, l->lineno, err) != 0)
            return lines_fail(l);
        data += take + 1;
        n -= take + 1;
    }
    return 0;
}

int pool_lines_finish(struct pool_lines *l, struct cb_err *err)
{
    if (l->failed)
        return -1;
    if (l->len > 0) {
        char where[CB_ERR_ORIGIN_MAX];
        snprintf(where, sizeof where, "%s:%lu", l->origin, l->lineno + 1);
        cb_err_set(err, CB_ERR_INVALID, where,
                   "output ends in the middle of a line (truncated)");
        return lines_fail(l);
    }
    return 0;
}

void pool_lines_free(struct pool_lines *l)
{
    free(l->buf);
    memset(l, 0, sizeof *l);
}

/* ---- small helpers --------------------------------------------------- */

/* "what" or "what: 'detail'" (detail sanitised and cut to 80 bytes). */
static int line_error(struct cb_err *err, const char *origin, unsigned long lineno,
                      const char *what, const char *detail)
{
    char where[CB_ERR_ORIGIN_MAX];
    char clean[80];
    snprintf(where, sizeof where, "%s:%lu", origin, lineno);
    if (detail == NULL)
        return cb_err_set(err, CB_ERR_INVALID, where, "%s", what);
    cb_sanitize(clean, sizeof clean, detail);
    return cb_err_set(err, CB_ERR_INVALID, where, "%s: '%s'", what, clean);
}

enum num_kind { NUM_OK, NUM_UNDEFINED, NUM_ERROR, NUM_BAD };

/* A value as condor_q -af prints it: an integer, a real, "undefined" or
 * "error". Reals are rounded up (requests are minimums). */
static enum num_kind parse_num(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    uint64_t v = 0;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (*p >= '0' && *p <= '9') {
        while (*p >= '0' && *p <= '9') {
            if (v > (uint64_t)INT64_MAX / 10)
                return NUM_BAD;
            v = v * 10 + (uint64_t)(*p - '0');
            p++;
        }
        if (*p == '\0') {
            if (v > (uint64_t)INT64_MAX)
                return NUM_BAD;
            *out = neg ? -(int64_t)v : (int64_t)v;
            return NUM_OK;
        }
        if (*p == '.' || *p == 'e' || *p == 'E') {
            char *end;
            errno = 0;
            double d = strtod(s, &end);
            if (errno != 0 || *end != '\0' || !isfinite(d) || d > 9.0e18 || d < -9.0e18)
                return NUM_BAD;
            *out = (int64_t)ceil(d);
            return NUM_OK;
        }
        return NUM_BAD;
    }
    if (!neg && strcmp(s, "undefined") == 0)
        return NUM_UNDEFINED;
    if (!neg && strcmp(s, "error") == 0)
        return NUM_ERROR;
    return NUM_BAD;
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

/* ---- demand ---------------------------------------------------------- */

int pool_demand_init(struct pool_demand_parser *p, struct cb_demand *out, unsigned n_clouds,
                     unsigned n_runtime_cols, struct cb_err *err)
{
    memset(p, 0, sizeof *p);
    if (n_clouds == 0 || n_clouds > CB_MAX_CLOUDS)
        return cb_err_set(err, CB_ERR_INVALID, "pool", "%u clouds: need 1..%d", n_clouds,
                          CB_MAX_CLOUDS);
    if (n_runtime_cols == 0 || n_runtime_cols > POOL_MAX_RUNTIME_COLS)
        return cb_err_set(err, CB_ERR_INVALID, "pool", "%u runtime columns: need 1..%d",
                          n_runtime_cols, POOL_MAX_RUNTIME_COLS);
    p->out = out;
    p->n_clouds = n_clouds;
    p->n_runtime_cols = n_runtime_cols;
    p->n_cols = POOL_DEMAND_FIXED_COLS + n_runtime_cols + n_clouds;
    p->index.cap = 1024;
    p->index.slots = calloc(p->index.cap, sizeof *p->index.slots);
    if (p->index.slots == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
    return 0;
}

static uint64_t shape_hash(const struct cb_job_shape *s)
{
    uint64_t h = mix64(s->cpus ^ (s->memory_mb << 20));
    h = mix64(h ^ s->disk_kb);
    h = mix64(h ^ (uint64_t)s->runtime_s);
    return mix64(h ^ s->clouds);
}

static bool shape_equal(const struct cb_job_shape *a, const struct cb_job_shape *b)
{
    return a->cpus == b->cpus && a->memory_mb == b->memory_mb && a->disk_kb == b->disk_kb &&
           a->runtime_s == b->runtime_s && a->clouds == b->clouds;
}

static int shape_index_grow(struct pool_demand_parser *p)
{
    size_t ncap = p->index.cap * 2;
    uint32_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return -1;
    for (size_t i = 0; i < p->out->n; i++) {
        size_t j = shape_hash(&p->out->shapes[i]) & (ncap - 1);
        while (ns[j] != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = (uint32_t)(i + 1);
    }
    free(p->index.slots);
    p->index.slots = ns;
    p->index.cap = ncap;
    return 0;
}

/* Count one job into its shape; returns -1 only when memory runs out. */
static int demand_add(struct pool_demand_parser *p, const struct cb_job_shape *key, int64_t qdate)
{
    size_t mask = p->index.cap - 1;
    size_t j = shape_hash(key) & mask;
    while (p->index.slots[j] != 0) {
        struct cb_job_shape *s = &p->out->shapes[p->index.slots[j] - 1];
        if (shape_equal(s, key)) {
            s->count++;
            if (qdate >= 0 && (s->oldest_qdate < 0 || qdate < s->oldest_qdate))
                s->oldest_qdate = qdate;
            p->out->idle_jobs++;
            return 0;
        }
        j = (j + 1) & mask;
    }
    if (p->out->n >= POOL_MAX_SHAPES) {
        p->jobs_dropped++;
        return 0;
    }
    struct cb_job_shape *s = cb_demand_add(p->out);
    if (s == NULL)
        return -1;
    *s = *key;
    s->count = 1;
    s->oldest_qdate = qdate >= 0 ? qdate : -1;
    p->out->idle_jobs++;
    p->index.slots[j] = (uint32_t)p->out->n;
    if (p->out->n * 2 > p->index.cap && shape_index_grow(p) != 0)
        return -1;
    return 0;
}

/* Universes whose jobs never run on a startd (scheduler, grid, local). */
static bool universe_runs_on_startd(int64_t u)
{
    return u != 7 && u != 9 && u != 12;
}

int pool_demand_line(void *ctx, const char *origin, char *line, size_t len,
                     unsigned long lineno, struct cb_err *err)
{
    struct pool_demand_parser *p = ctx;
    char *col[POOL_DEMAND_FIXED_COLS + POOL_MAX_RUNTIME_COLS + CB_MAX_CLOUDS];
    unsigned n = 0;
    char *s = line;
    char *end = line + len;

    if (memchr(line, '\0', len) != NULL)
        return line_error(err, origin, lineno, "NUL byte in output", NULL);
    for (;;) {
        if (n == p->n_cols) {
            char what[80];
            snprintf(what, sizeof what, "more than %u tab-separated columns (garbled)",
                     p->n_cols);
            return line_error(err, origin, lineno, what, NULL);
        }
        col[n++] = s;
        char *tab = memchr(s, '\t', (size_t)(end - s));
        if (tab == NULL)
            break;
        *tab = '\0';
        s = tab + 1;
    }
    if (n != p->n_cols) {
        char what[80];
        snprintf(what, sizeof what, "%u of %u tab-separated columns (truncated or garbled)", n,
                 p->n_cols);
        return line_error(err, origin, lineno, what, NULL);
    }

    int64_t v[8] = {0};
    enum num_kind k[8] = {NUM_UNDEFINED};
    static const char *const names[8] = {"ClusterId", "ProcId", "RequestCpus", "RequestMemory",
                                         "RequestDisk", "QDate", "Owner", "JobUniverse"};
    for (unsigned i = 0; i < POOL_DEMAND_FIXED_COLS; i++) {
        if (i == 6) {
            if (col[6][0] == '\0')
                return line_error(err, origin, lineno, "empty Owner", NULL);
            continue;
        }
        k[i] = parse_num(col[i], &v[i]);
        if (k[i] == NUM_BAD) {
            char what[64];
            snprintf(what, sizeof what, "%s is not a number", names[i]);
            return line_error(err, origin, lineno, what, col[i]);
        }
    }
    if (k[0] != NUM_OK || k[1] != NUM_OK || v[0] < 0 || v[1] < 0)
        return line_error(err, origin, lineno, "bad job id", col[0]);

    p->jobs_seen++;
    struct cb_job_shape key;
    memset(&key, 0, sizeof key);
    if (k[2] == NUM_ERROR || k[3] == NUM_ERROR || k[4] == NUM_ERROR ||
        (k[7] == NUM_OK && !universe_runs_on_startd(v[7]))) {
        p->jobs_skipped++;
        return 0;
    }
    int64_t cpus = k[2] == NUM_OK ? v[2] : 1;
    int64_t mem = k[3] == NUM_OK ? v[3] : 0;
    int64_t disk = k[4] == NUM_OK ? v[4] : 0;
    if (cpus < 0 || cpus > UINT32_MAX || mem < 0 || disk < 0)
        return line_error(err, origin, lineno, "negative or huge resource request",
                          col[cpus < 0 || cpus > UINT32_MAX ? 2 : mem < 0 ? 3 : 4]);
    key.cpus = (uint32_t)cpus;
    key.memory_mb = (uint64_t)mem;
    key.disk_kb = (uint64_t)disk;
    key.runtime_s = -1;
    for (unsigned i = 0; i < p->n_runtime_cols; i++) {
        int64_t r;
        enum num_kind rk = parse_num(col[POOL_DEMAND_FIXED_COLS + i], &r);
        if (rk == NUM_BAD)
            return line_error(err, origin, lineno, "runtime hint is not a number",
                              col[POOL_DEMAND_FIXED_COLS + i]);
        if (rk == NUM_OK && r > 0) {
            if (r > INT64_MAX - POOL_RUNTIME_BUCKET)
                r = INT64_MAX - POOL_RUNTIME_BUCKET;
            key.runtime_s = (r + POOL_RUNTIME_BUCKET - 1) / POOL_RUNTIME_BUCKET *
                            POOL_RUNTIME_BUCKET;
            break;
        }
    }
    for (unsigned c = 0; c < p->n_clouds; c++) {
        const char *e = col[POOL_DEMAND_FIXED_COLS + p->n_runtime_cols + c];
        if (strcmp(e, "true") == 0)
            key.clouds |= (cb_cloud_mask)1 << c;
        else if (strcmp(e, "false") != 0 && strcmp(e, "undefined") != 0 &&
                 strcmp(e, "error") != 0)
            return line_error(err, origin, lineno, "eligibility column is not a boolean", e);
    }
    if (key.clouds == 0) {
        p->jobs_skipped++;
        return 0;
    }
    if (demand_add(p, &key, k[5] == NUM_OK ? v[5] : -1) != 0)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    return 0;
}

void pool_demand_finish(struct pool_demand_parser *p)
{
    if (p->jobs_dropped > 0 && !p->out->partial) {
        p->out->partial = true;
        snprintf(p->out->partial_reason, sizeof p->out->partial_reason,
                 "more than %d distinct job shapes: %llu idle jobs not counted", POOL_MAX_SHAPES,
                 (unsigned long long)p->jobs_dropped);
    }
}

void pool_demand_parser_free(struct pool_demand_parser *p)
{
    free(p->index.slots);
    memset(p, 0, sizeof *p);
}

static int shape_cmp(const void *a, const void *b)
{
    const struct cb_job_shape *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->cpus != y->cpus)
        return x->cpus < y->cpus ? -1 : 1;
    if (x->memory_mb != y->memory_mb)
        return x->memory_mb < y->memory_mb ? -1 : 1;
    if (x->disk_kb != y->disk_kb)
        return x->disk_kb < y->disk_kb ? -1 : 1;
    if (x->runtime_s != y->runtime_s)
        return x->runtime_s < y->runtime_s ? -1 : 1;
    if (x->clouds != y->clouds)
        return x->clouds < y->clouds ? -1 : 1;
    return 0;
}

void pool_demand_sort(struct cb_demand *d)
{
    if (d->n > 1)
        qsort(d->shapes, d->n, sizeof *d->shapes, shape_cmp);
}

/* ---- totals ---------------------------------------------------------- */

int pool_totals_line(void *ctx, const char *origin, char *line, size_t len,
                     unsigned long lineno, struct cb_err *err)
{
    struct pool_totals_parser *t = ctx;
    static const char prefix[] = "Total for query:";
    (void)len;

    if (strstr(line, "Failed to fetch ads") != NULL) {
        if (t->failed++ == 0)
            cb_sanitize(t->failure, sizeof t->failure, line);
        return 0;
    }
    if (strncmp(line, prefix, sizeof prefix - 1) != 0)
        return 0;
    /* "Total for query: 6 jobs; 0 completed, 0 removed, 3 idle, 2 running, ..." */
    const char *idle = strstr(line, " idle");
    const char *p = idle;
    if (idle == NULL)
        return line_error(err, origin, lineno, "totals line without an idle count", line);
    while (p > line && p[-1] >= '0' && p[-1] <= '9')
        p--;
    if (p == idle || p == line || (p[-1] != ' '))
        return line_error(err, origin, lineno, "totals line without an idle count", line);
    uint64_t v = 0;
    for (; p < idle; p++) {
        if (v > UINT64_MAX / 10 - 9)
            return line_error(err, origin, lineno, "idle count out of range", line);
        v = v * 10 + (uint64_t)(*p - '0');
    }
    t->idle += v;
    t->schedds++;
    return 0;
}

/* ---- JSON ad stream -------------------------------------------------- */

enum { JS_START, JS_ELEM_OR_END, JS_ELEM, JS_IN_AD, JS_COMMA_OR_END, JS_END };

int pool_json_init(struct pool_json_stream *s, const char *origin, pool_ad_fn fn, void *ctx,
                   struct cb_err *err)
{
    memset(s, 0, sizeof *s);
    /* Ads are flat: attribute -> literal, or a list of literals (ChildState). */
    s->tok = json_tokener_new_ex(8);
    if (s->tok == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    s->origin = origin;
    s->fn = fn;
    s->ctx = ctx;
    s->lineno = 1;
    s->state = JS_START;
    return 0;
}

static int json_fail(struct pool_json_stream *s, struct cb_err *err, const char *what,
                     const char *detail)
{
    char where[CB_ERR_ORIGIN_MAX];
    snprintf(where, sizeof where, "%s:%lu", s->origin, s->lineno);
    cb_err_set(err, CB_ERR_INVALID, where, "%s%s", what, detail != NULL ? detail : "");
    s->failed = true;
    return -1;
}

static void count_lines(struct pool_json_stream *s, const char *p, size_t n)
{
    const char *e = p + n;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        s->lineno++;
        p++;
    }
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

int pool_json_feed(struct pool_json_stream *s, const char *data, size_t n, struct cb_err *err)
{
    if (s->failed)
        return -1;
    while (n > 0) {
        if (s->state == JS_IN_AD) {
            size_t chunk = n > (size_t)INT_MAX ? (size_t)INT_MAX : n;
            json_object *obj = json_tokener_parse_ex(s->tok, data, (int)chunk);
            enum json_tokener_error jerr = json_tokener_get_error(s->tok);
            if (obj == NULL && jerr == json_tokener_continue) {
                count_lines(s, data, chunk);
                s->ad_bytes += chunk;
                if (s->ad_bytes > POOL_MAX_AD)
                    return json_fail(s, err, "ad longer than 1 MiB", NULL);
                data += chunk;
                n -= chunk;
                continue;
            }
            if (obj == NULL) {
                char d[96];
                snprintf(d, sizeof d, ": %s", json_tokener_error_desc(jerr));
                return json_fail(s, err, "malformed JSON ad", d);
            }
            size_t used = json_tokener_get_parse_end(s->tok);
            if (used > chunk)
                used = chunk;
            count_lines(s, data, used);
            data += used;
            n -= used;
            json_tokener_reset(s->tok);
            s->state = JS_COMMA_OR_END;
            if (!json_object_is_type(obj, json_type_object)) {
                json_object_put(obj);
                return json_fail(s, err, "ad is not a JSON object", NULL);
            }
            s->ads++;
            int rc = s->fn(s->ctx, s->origin, obj, s->ad_line, err);
            json_object_put(obj);
            if (rc != 0) {
                s->failed = true;
                return -1;
            }
            continue;
        }
        char c = *data;
        if (is_ws(c)) {
            if (c == '\n')
                s->lineno++;
            data++;
            n--;
            continue;
        }
        switch (s->state) {
        case JS_START:
            if (c != '[')
                return json_fail(s, err, "expected '[' at the start of the output", NULL);
            s->state = JS_ELEM_OR_END;
            break;
        case JS_ELEM_OR_END:
        case JS_ELEM:
            if (c == ']' && s->state == JS_ELEM_OR_END) {
                s->state = JS_END;
                break;
            }
            if (c != '{')
                return json_fail(s, err, "expected an ad ('{')", NULL);
            s->state = JS_IN_AD;
            s->ad_line = s->lineno;
            s->ad_bytes = 0;
            continue; /* the tokener consumes the '{' */
        case JS_COMMA_OR_END:
            if (c == ',')
                s->state = JS_ELEM;
            else if (c == ']')
                s->state = JS_END;
            else
                return json_fail(s, err, "expected ',' or ']' after an ad", NULL);
            break;
        default:
            return json_fail(s, err, "text after the end of the ad list", NULL);
        }
        data++;
        n--;
    }
    return 0;
}

int pool_json_finish(struct pool_json_stream *s, struct cb_err *err)
{
    if (s->failed)
        return -1;
    if (s->state == JS_START || s->state == JS_END)
        return 0;
    return json_fail(s, err, "output ends inside the ad list (truncated)", NULL);
}

void pool_json_free(struct pool_json_stream *s)
{
    if (s->tok != NULL)
        json_tokener_free(s->tok);
    memset(s, 0, sizeof *s);
}

/* ---- JSON field access ---------------------------------------------- */

bool pool_json_is_expr(struct json_object *ad, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(ad, key, &v) || !json_object_is_type(v, json_type_string))
        return false;
    /* json-c has already turned "\/" into "/". */
    const char *s = json_object_get_string(v);
    return strncmp(s, "/Expr(", 6) == 0;
}

bool pool_json_int(struct json_object *ad, const char *key, int64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(ad, key, &v))
        return false;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return true;
    }
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (!isfinite(d) || d > 9.0e18 || d < -9.0e18)
            return false;
        *out = (int64_t)d;
        return true;
    }
    return false;
}

/* A plain string value; "\/Expr(...)\/" strings are not plain values. */
static const char *json_str(struct json_object *ad, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(ad, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    const char *s = json_object_get_string(v);
    if (strncmp(s, "/Expr(", 6) == 0)
        return NULL;
    return s;
}

static bool json_true(struct json_object *ad, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(ad, key, &v) && json_object_is_type(v, json_type_boolean) &&
           json_object_get_boolean(v);
}

/* ---- supply ---------------------------------------------------------- */

int pool_supply_init(struct pool_supply_builder *b, struct cb_supply *out,
                     const char *const *runtime_attrs, struct cb_err *err)
{
    memset(b, 0, sizeof *b);
    b->out = out;
    for (size_t i = 0; runtime_attrs != NULL && runtime_attrs[i] != NULL; i++) {
        if (i >= POOL_MAX_RUNTIME_COLS)
            return cb_err_set(err, CB_ERR_INVALID, "pool", "more than %d runtime attributes",
                              POOL_MAX_RUNTIME_COLS);
        if (cb_strlcpy(b->runtime_attrs[i], runtime_attrs[i], sizeof b->runtime_attrs[i]) >=
            sizeof b->runtime_attrs[i])
            return cb_err_set(err, CB_ERR_INVALID, "pool", "runtime attribute name too long");
        b->n_runtime_attrs++;
    }
    b->index_cap = 256;
    b->index = calloc(b->index_cap, sizeof *b->index);
    if (b->index == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
    return 0;
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return mix64(h);
}

static int supply_index_grow(struct pool_supply_builder *b)
{
    size_t ncap = b->index_cap * 2;
    uint32_t *ni = calloc(ncap, sizeof *ni);
    if (ni == NULL)
        return -1;
    for (size_t i = 0; i < b->out->n; i++) {
        size_t j = str_hash(b->out->nodes[i].machine) & (ncap - 1);
        while (ni[j] != 0)
            j = (j + 1) & (ncap - 1);
        ni[j] = (uint32_t)(i + 1);
    }
    free(b->index);
    b->index = ni;
    b->index_cap = ncap;
    return 0;
}

/* The index of `machine`'s node (already sanitised), created if new; *oom on
 * ENOMEM; SIZE_MAX when POOL_MAX_NODES nodes exist already. */
static size_t supply_node(struct pool_supply_builder *b, const char *machine, bool *oom)
{
    size_t mask = b->index_cap - 1;
    size_t j = str_hash(machine) & mask;
    *oom = false;
    while (b->index[j] != 0) {
        if (strcmp(b->out->nodes[b->index[j] - 1].machine, machine) == 0)
            return b->index[j] - 1;
        j = (j + 1) & mask;
    }
    if (b->out->n >= POOL_MAX_NODES)
        return SIZE_MAX;
    if (b->out->n + 1 > b->extra_cap) {
        size_t ncap = b->extra_cap ? b->extra_cap * 2 : 16;
        struct pool_node_extra *ne = realloc(b->extra, ncap * sizeof *ne);
        if (ne == NULL) {
            *oom = true;
            return 0;
        }
        b->extra = ne;
        b->extra_cap = ncap;
    }
    struct cb_pool_node *node = cb_supply_add(b->out);
    if (node == NULL) {
        *oom = true;
        return 0;
    }
    cb_strlcpy(node->machine, machine, sizeof node->machine);
    size_t i = b->out->n - 1;
    struct pool_node_extra *x = &b->extra[i];
    memset(x, 0, sizeof *x);
    x->end_max = -1;
    x->idle_max = -1;
    b->index[j] = (uint32_t)(i + 1);
    if (b->out->n * 2 > b->index_cap && supply_index_grow(b) != 0) {
        *oom = true;
        return 0;
    }
    return i;
}

static int ad_error(struct cb_err *err, const char *origin, unsigned long lineno, const char *msg)
{
    char where[CB_ERR_ORIGIN_MAX];
    snprintf(where, sizeof where, "%s:%lu", origin, lineno);
    return cb_err_set(err, CB_ERR_INVALID, where, "%s", msg);
}

/* Copy an optional string attribute, sanitised; too long is an error. */
static int copy_attr(char *dst, size_t size, struct json_object *ad, const char *key,
                     const char *origin, unsigned long lineno, struct cb_err *err)
{
    const char *v = json_str(ad, key);
    if (v == NULL)
        return 0;
    if (strlen(v) >= size) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s longer than %zu bytes", key, size - 1);
        return ad_error(err, origin, lineno, msg);
    }
    if (dst[0] == '\0')
        cb_sanitize(dst, size, v);
    return 0;
}

static uint64_t nonneg(int64_t v)
{
    return v > 0 ? (uint64_t)v : 0;
}

static bool slot_state_claimed(const char *state)
{
    /* Matched and Preempting slots hold (or are about to hold) a job too. */
    return strcmp(state, "Claimed") == 0 || strcmp(state, "Matched") == 0 ||
           strcmp(state, "Preempting") == 0;
}

int pool_supply_slot_ad(void *ctx, const char *origin, struct json_object *ad,
                        unsigned long lineno, struct cb_err *err)
{
    struct pool_supply_builder *b = ctx;
    const char *name = json_str(ad, "Name");
    const char *machine_raw = json_str(ad, "Machine");
    const char *state = json_str(ad, "State");
    const char *activity = json_str(ad, "Activity");
    const char *type = json_str(ad, "SlotType");
    int64_t cpus, v;
    char machine[CB_HOST_MAX];

    if (name == NULL || state == NULL)
        return ad_error(err, origin, lineno, "slot ad without Name or State");
    if (machine_raw == NULL) {
        /* Projections that left Machine out: a slot is named "slotN@<machine>". */
        machine_raw = strrchr(name, '@');
        if (machine_raw == NULL || machine_raw[1] == '\0')
            return ad_error(err, origin, lineno, "slot ad without Machine");
        machine_raw++;
    }
    if (!pool_json_int(ad, "Cpus", &cpus))
        return ad_error(err, origin, lineno, "slot ad without a literal Cpus");
    if (strlen(machine_raw) >= sizeof machine || strlen(name) >= CB_HOST_MAX)
        return ad_error(err, origin, lineno, "slot Name or Machine too long");
    cb_sanitize(machine, sizeof machine, machine_raw);

    bool oom;
    size_t i = supply_node(b, machine, &oom);
    if (!oom && i == SIZE_MAX)
        return ad_error(err, origin, lineno, "more than 100000 cloud nodes");
    if (oom)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    struct cb_pool_node *node = &b->out->nodes[i];
    struct pool_node_extra *x = &b->extra[i];
    b->slot_ads++;
    node->slots++;
    if (copy_attr(node->node_id, sizeof node->node_id, ad, "CloudburstNodeId", origin, lineno,
                  err) != 0 ||
        copy_attr(node->instance_id, sizeof node->instance_id, ad, "CloudInstanceId", origin,
                  lineno, err) != 0 ||
        copy_attr(node->cloud, sizeof node->cloud, ad, "CloudName", origin, lineno, err) != 0)
        return -1;
    if (pool_json_int(ad, "LastHeardFrom", &v) && v > node->last_heard_from)
        node->last_heard_from = v;
    if (pool_json_int(ad, "DaemonStartTime", &v) && v > node->daemon_start_time)
        node->daemon_start_time = v;

    bool pslot = type != NULL ? strcmp(type, "Partitionable") == 0
                              : json_true(ad, "PartitionableSlot");
    bool dslot = type != NULL ? strcmp(type, "Dynamic") == 0 : json_true(ad, "DynamicSlot");
    /* condor_drain needs a name it can resolve; a p-slot or static slot
     * name ("slot1@vm") is preferred to a dynamic one. */
    if (x->drain_target[0] == '\0' || (!dslot && x->drain_target_dynamic)) {
        cb_sanitize(x->drain_target, sizeof x->drain_target, name);
        x->drain_target_dynamic = dslot;
    }

    if (strcmp(state, "Drained") == 0 || (activity != NULL && strcmp(activity, "Retiring") == 0))
        node->draining = true;

    int64_t mem = 0, disk = 0, tcpus = cpus, tmem, tdisk;
    pool_json_int(ad, "Memory", &mem);
    pool_json_int(ad, "Disk", &disk);
    if (!pool_json_int(ad, "TotalSlotCpus", &tcpus))
        tcpus = cpus;
    if (!pool_json_int(ad, "TotalSlotMemory", &tmem))
        tmem = mem;
    if (!pool_json_int(ad, "TotalSlotDisk", &tdisk))
        tdisk = disk;
    bool claimed = slot_state_claimed(state);

    if (pslot) {
        node->total_cpus += (uint32_t)nonneg(tcpus);
        node->total_memory_mb += nonneg(tmem);
        node->total_disk_kb += nonneg(tdisk);
        if (cpus < tcpus)
            x->pslot_carved = true;
        json_object *cs;
        if (json_object_object_get_ex(ad, "ChildState", &cs) &&
            json_object_is_type(cs, json_type_array)) {
            size_t nc = json_object_array_length(cs);
            for (size_t c = 0; c < nc; c++) {
                json_object *e = json_object_array_get_idx(cs, c);
                if (e != NULL && json_object_is_type(e, json_type_string) &&
                    slot_state_claimed(json_object_get_string(e)))
                    x->child_claimed++;
            }
        }
        if (claimed) {
            x->static_claimed++;
        } else {
            node->idle_cpus += (uint32_t)nonneg(cpus);
            node->idle_memory_mb += nonneg(mem);
            node->idle_disk_kb += nonneg(disk);
            if (pool_json_int(ad, "EnteredCurrentActivity", &v) && v > x->idle_max)
                x->idle_max = v;
            /* A p-slot stays Unclaimed/Idle while children run: it became empty
             * when its last child went away. */
            if (pool_json_int(ad, "NumDynamicSlotsTime", &v) && v > x->idle_max)
                x->idle_max = v;
        }
    } else if (dslot) {
        if (claimed)
            x->dyn_claimed++;
    } else {
        node->total_cpus += (uint32_t)nonneg(tcpus);
        node->total_memory_mb += nonneg(tmem);
        node->total_disk_kb += nonneg(tdisk);
        if (claimed) {
            x->static_claimed++;
        } else {
            node->idle_cpus += (uint32_t)nonneg(cpus);
            node->idle_memory_mb += nonneg(mem);
            node->idle_disk_kb += nonneg(disk);
            if (pool_json_int(ad, "EnteredCurrentActivity", &v) && v > x->idle_max)
                x->idle_max = v;
        }
    }
    if (claimed && !pslot) {
        int64_t start, rt = -1;
        bool have_start = pool_json_int(ad, "JobStart", &start) && start > 0;
        for (unsigned r = 0; r < b->n_runtime_attrs; r++)
            if (pool_json_int(ad, b->runtime_attrs[r], &rt) && rt > 0)
                break;
        if (have_start && rt > 0 && start <= INT64_MAX - rt) {
            if (start + rt > x->end_max)
                x->end_max = start + rt;
        } else {
            x->runtime_unknown = true;
        }
    }
    return 0;
}

int pool_supply_startd_ad(void *ctx, const char *origin, struct json_object *ad,
                          unsigned long lineno, struct cb_err *err)
{
    struct pool_supply_builder *b = ctx;
    const char *machine = json_str(ad, "Machine");
    if (machine == NULL)
        machine = json_str(ad, "Name");
    if (machine == NULL)
        return ad_error(err, origin, lineno, "StartD ad without Machine or Name");
    if (strlen(machine) >= CB_HOST_MAX)
        return ad_error(err, origin, lineno, "StartD Machine too long");
    if (b->n_startds >= POOL_MAX_NODES)
        return ad_error(err, origin, lineno, "more than 100000 StartD ads");
    if (b->n_startds == b->startds_cap) {
        size_t ncap = b->startds_cap ? b->startds_cap * 2 : 16;
        struct pool_startd_info *ns = realloc(b->startds, ncap * sizeof *ns);
        if (ns == NULL)
            return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        b->startds = ns;
        b->startds_cap = ncap;
    }
    struct pool_startd_info *si = &b->startds[b->n_startds++];
    memset(si, 0, sizeof *si);
    cb_sanitize(si->machine, sizeof si->machine, machine);
    si->draining = json_true(ad, "Draining");
    const char *reason = json_str(ad, "DrainReason");
    if (reason != NULL)
        cb_sanitize(si->drain_reason, sizeof si->drain_reason, reason);
    if (!pool_json_int(ad, "DaemonStartTime", &si->daemon_start_time))
        si->daemon_start_time = -1;
    return 0;
}

static int node_cmp(const void *a, const void *b, void *arg)
{
    const struct cb_pool_node *nodes = arg;
    return strcmp(nodes[*(const size_t *)a].machine, nodes[*(const size_t *)b].machine);
}

void pool_supply_finish(struct pool_supply_builder *b)
{
    struct cb_supply *s = b->out;

    if (b->index == NULL)
        return; /* already finished */
    for (size_t k = 0; k < b->n_startds; k++) {
        const struct pool_startd_info *si = &b->startds[k];
        size_t j = str_hash(si->machine) & (b->index_cap - 1);
        while (b->index[j] != 0) {
            size_t i = b->index[j] - 1;
            if (strcmp(s->nodes[i].machine, si->machine) == 0) {
                if (si->draining)
                    s->nodes[i].draining = true;
                if (si->drain_reason[0] != '\0')
                    cb_strlcpy(b->extra[i].drain_reason, si->drain_reason,
                               sizeof b->extra[i].drain_reason);
                if (si->daemon_start_time > s->nodes[i].daemon_start_time)
                    s->nodes[i].daemon_start_time = si->daemon_start_time;
                break;
            }
            j = (j + 1) & (b->index_cap - 1);
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        struct cb_pool_node *n = &s->nodes[i];
        struct pool_node_extra *x = &b->extra[i];
        uint32_t dyn = x->dyn_claimed > x->child_claimed ? x->dyn_claimed : x->child_claimed;
        n->claimed_slots = x->static_claimed + dyn;
        n->busy = n->claimed_slots > 0 || x->pslot_carved;
        n->idle_since = n->busy ? -1 : x->idle_max;
        n->expected_empty_at = n->busy && !x->runtime_unknown ? x->end_max : -1;
    }
    /* Sort by machine, the extras along with their nodes. */
    if (s->n > 1) {
        size_t *perm = malloc(s->n * sizeof *perm);
        struct cb_pool_node *nn = malloc(s->n * sizeof *nn);
        struct pool_node_extra *nx = malloc(s->n * sizeof *nx);
        if (perm != NULL && nn != NULL && nx != NULL) {
            for (size_t i = 0; i < s->n; i++)
                perm[i] = i;
            qsort_r(perm, s->n, sizeof *perm, node_cmp, s->nodes);
            for (size_t i = 0; i < s->n; i++) {
                nn[i] = s->nodes[perm[i]];
                nx[i] = b->extra[perm[i]];
            }
            memcpy(s->nodes, nn, s->n * sizeof *nn);
            memcpy(b->extra, nx, s->n * sizeof *nx);
        }
        free(perm);
        free(nn);
        free(nx);
    }
    /* The index no longer matches the order. */
    free(b->index);
    b->index = NULL;
    b->index_cap = 0;
}

const struct pool_node_extra *pool_supply_extra(const struct pool_supply_builder *b, size_t i)
{
    return i < b->out->n ? &b->extra[i] : NULL;
}

void pool_supply_builder_free(struct pool_supply_builder *b)
{
    free(b->extra);
    free(b->index);
    free(b->startds);
    memset(b, 0, sizeof *b);
}
