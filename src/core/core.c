/* core: configuration, set-up, crash-recovery restore, inspection and the
 * small helpers the decide pipeline shares. See core.h for the promises.
 */
#include "core/core_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- errors: the struct of cb_error.h, filled without libcbcommon ---- */

int cbc_err(struct cb_err *err, enum cb_errcode code, const char *origin, const char *fmt, ...)
{
    if (err == NULL || err->code != CB_OK)
        return -1;
    err->code = code;
    cbc_copy(err->origin, sizeof err->origin, origin ? origin : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    /* Names from the configuration could carry control characters. */
    for (char *p = err->msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return -1;
}

void cbc_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* ---- configuration ---- */

void cb_core_config_defaults(struct cb_core_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cbc_copy(cfg->batch_prefix, sizeof cfg->batch_prefix, "cb");
    cfg->ramp_fraction = 0.5;
    cfg->ramp_floor = 1;
    cfg->idle_timeout = 0;
    cfg->idle_timeout_min = 120;
    cfg->idle_timeout_max = 1800;
    cfg->idle_timeout_prior = 600;
    cfg->idle_learn_factor = 1.0;
    cfg->drain_timeout = 86400;
    cfg->max_lifetime = 0;
    cfg->billing_margin = 300;
    cfg->boot_timeout = 600;
    cfg->join_timeout = 1200;
    cfg->lost_timeout = 600;
    cfg->listing_grace = 300;
    cfg->breaker_failures = 3;
    cfg->breaker_backoff_min = 300;
    cfg->breaker_backoff_max = 1800;
    cfg->breaker_reset_after = 10800;
    cfg->quota_backoff = 600;
    cfg->throttle_backoff = 60;
    cfg->budget_per_hour = 0;
    cfg->budget_per_month = 0;
    cfg->bootstrap_ssh = true;
}

static bool prefix_ok(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > CB_CORE_PREFIX_MAX || p[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

static bool money_ok(double v)
{
    return v >= 0 && v < 1e12; /* also false for NaN */
}

int cb_core_config_check(const struct cb_core_config *cfg, struct cb_err *err)
{
    char at[96];
    if (cfg == NULL)
        return cbc_err(err, CB_ERR_INVALID, "core", "no configuration");
    if (!prefix_ok(cfg->batch_prefix))
        return cbc_err(err, CB_ERR_INVALID, "batch_prefix",
                        "must be 1..%d characters of [a-z0-9-], not starting with '-'",
                        CB_CORE_PREFIX_MAX);
    if (!(cfg->ramp_fraction > 0 && cfg->ramp_fraction <= 1))
        return cbc_err(err, CB_ERR_INVALID, "ramp_fraction", "must be in (0, 1]");
    if (cfg->idle_timeout_min == 0 || cfg->idle_timeout_min > cfg->idle_timeout_max)
        return cbc_err(err, CB_ERR_INVALID, "idle_timeout_min",
                        "must be > 0 and <= idle_timeout_max (%u)", cfg->idle_timeout_max);
    if (!(cfg->idle_learn_factor > 0 && cfg->idle_learn_factor <= 100))
        return cbc_err(err, CB_ERR_INVALID, "idle_learn_factor", "must be in (0, 100]");
    if (cfg->boot_timeout == 0)
        return cbc_err(err, CB_ERR_INVALID, "boot_timeout", "must be > 0");
    if (cfg->join_timeout == 0)
        return cbc_err(err, CB_ERR_INVALID, "join_timeout", "must be > 0");
    if (cfg->lost_timeout == 0)
        return cbc_err(err, CB_ERR_INVALID, "lost_timeout", "must be > 0");
    if (cfg->breaker_failures == 0)
        return cbc_err(err, CB_ERR_INVALID, "breaker_failures", "must be > 0");
    if (cfg->breaker_backoff_min == 0 || cfg->breaker_backoff_min > cfg->breaker_backoff_max)
        return cbc_err(err, CB_ERR_INVALID, "breaker_backoff_min",
                        "must be > 0 and <= breaker_backoff_max (%u)", cfg->breaker_backoff_max);
    if (!money_ok(cfg->budget_per_hour))
        return cbc_err(err, CB_ERR_INVALID, "budget_per_hour", "must be >= 0");
    if (!money_ok(cfg->budget_per_month))
        return cbc_err(err, CB_ERR_INVALID, "budget_per_month", "must be >= 0");
    if (cfg->n_clouds > CB_MAX_CLOUDS)
        return cbc_err(err, CB_ERR_INVALID, "clouds", "at most %d clouds", CB_MAX_CLOUDS);
    if (cfg->n_clouds > 0 && cfg->clouds == NULL)
        return cbc_err(err, CB_ERR_INVALID, "clouds", "n_clouds > 0 but no array");
    for (size_t c = 0; c < cfg->n_clouds; c++) {
        const struct cb_core_cloud *cl = &cfg->clouds[c];
        snprintf(at, sizeof at, "clouds.[%zu]", c);
        if (cl->name[0] == '\0' || memchr(cl->name, '\0', sizeof cl->name) == NULL)
            return cbc_err(err, CB_ERR_INVALID, at, "name missing or not terminated");
        for (size_t d = 0; d < c; d++)
            if (strcmp(cfg->clouds[d].name, cl->name) == 0)
                return cbc_err(err, CB_ERR_INVALID, at, "duplicate cloud name \"%s\"",
                                cl->name);
        if (memchr(cl->image, '\0', sizeof cl->image) == NULL)
            return cbc_err(err, CB_ERR_INVALID, at, "image not terminated");
        if (!money_ok(cl->budget_per_hour) || !money_ok(cl->budget_per_month))
            return cbc_err(err, CB_ERR_INVALID, at, "budgets must be >= 0");
        if (cl->billing != CB_CORE_BILLING_PER_SECOND && cl->billing != CB_CORE_BILLING_PER_HOUR)
            return cbc_err(err, CB_ERR_INVALID, at, "unknown billing");
        if (cl->n_flavors == 0 || cl->n_flavors > CB_CORE_MAX_FLAVORS || cl->flavors == NULL)
            return cbc_err(err, CB_ERR_INVALID, at, "needs 1..%d flavors",
                            CB_CORE_MAX_FLAVORS);
        for (size_t f = 0; f < cl->n_flavors; f++) {
            const struct cb_core_flavor *fl = &cl->flavors[f];
            snprintf(at, sizeof at, "clouds.[%zu].flavors.[%zu]", c, f);
            if (fl->name[0] == '\0' || memchr(fl->name, '\0', sizeof fl->name) == NULL)
                return cbc_err(err, CB_ERR_INVALID, at, "name missing or not terminated");
            for (size_t g = 0; g < f; g++)
                if (strcmp(cl->flavors[g].name, fl->name) == 0)
                    return cbc_err(err, CB_ERR_INVALID, at, "duplicate flavor \"%s\"",
                                    fl->name);
            if (fl->cpus == 0 || fl->cpus > 100000)
                return cbc_err(err, CB_ERR_INVALID, at, "cpus must be in 1..100000");
            if (fl->memory_mb == 0 || fl->memory_mb > (UINT64_C(1) << 40))
                return cbc_err(err, CB_ERR_INVALID, at, "memory_mb must be in 1..2^40");
            if (fl->disk_gb > (UINT64_C(1) << 30))
                return cbc_err(err, CB_ERR_INVALID, at, "disk_gb must be <= 2^30");
            if (!money_ok(fl->cost_per_hour))
                return cbc_err(err, CB_ERR_INVALID, at, "cost_per_hour must be >= 0");
        }
    }
    return 0;
}

/* ---- names ---- */

static const char *const reason_names[CB_REASON__COUNT] = {
    [CB_REASON_NONE] = "none",
    [CB_REASON_DEMAND] = "demand",
    [CB_REASON_INSTANCE_RUNNING] = "instance-running",
    [CB_REASON_IDLE_TIMEOUT] = "idle-timeout",
    [CB_REASON_MAX_LIFETIME] = "max-lifetime",
    [CB_REASON_BUDGET_HOUR] = "budget-hour",
    [CB_REASON_BUDGET_MONTH] = "budget-month",
    [CB_REASON_PREEMPTED] = "preempted",
    [CB_REASON_DEMAND_RETURNED] = "demand-returned",
    [CB_REASON_DRAINED] = "drained",
    [CB_REASON_DRAIN_TIMEOUT] = "drain-timeout",
    [CB_REASON_BOOT_TIMEOUT] = "boot-timeout",
    [CB_REASON_JOIN_TIMEOUT] = "join-timeout",
    [CB_REASON_BOOTSTRAP_FAILED] = "bootstrap-failed",
    [CB_REASON_INSTANCE_ERROR] = "instance-error",
    [CB_REASON_LOST] = "lost",
    [CB_REASON_UNKNOWN_INSTANCE] = "unknown-instance",
    [CB_REASON_ADOPTED] = "adopted",
    [CB_REASON_TERMINATE_RETRY] = "terminate-retry",
    [CB_REASON_CLOUD_DISABLED] = "cloud-disabled",
    [CB_REASON_BOOT_ACCEPTED] = "boot-accepted",
    [CB_REASON_BOOT_REJECTED] = "boot-rejected",
    [CB_REASON_BOOT_FOUND] = "boot-found",
    [CB_REASON_BOOT_NEVER_HAPPENED] = "boot-never-happened",
    [CB_REASON_JOINED] = "joined",
    [CB_REASON_CLAIMED] = "claimed",
    [CB_REASON_RELEASED] = "released",
    [CB_REASON_DRAIN_FAILED] = "drain-failed",
    [CB_REASON_VANISHED] = "vanished",
    [CB_REASON_TERMINATED] = "terminated",
    [CB_REASON_NOTHING_TO_DO] = "nothing-to-do",
    [CB_REASON_PAUSED] = "paused",
    [CB_REASON_PARTIAL_OBSERVATION] = "partial-observation",
    [CB_REASON_QUOTA] = "quota",
    [CB_REASON_THROTTLED] = "throttled",
    [CB_REASON_MAX_NODES] = "max-nodes",
    [CB_REASON_MAX_CORES] = "max-cores",
    [CB_REASON_IN_FLIGHT_CAP] = "in-flight-cap",
    [CB_REASON_BOOT_PER_CYCLE] = "boot-per-cycle",
    [CB_REASON_RAMP] = "ramp",
    [CB_REASON_BREAKER_OPEN] = "breaker-open",
    [CB_REASON_NO_FITTING_FLAVOR] = "no-fitting-flavor",
    [CB_REASON_NO_ELIGIBLE_CLOUD] = "no-eligible-cloud",
    [CB_REASON_DRAIN_WAIT] = "drain-wait",
    [CB_REASON_BILLING_HOUR] = "billing-hour",
    [CB_REASON_LISTING_STALE] = "listing-stale",
    [CB_REASON_UNKNOWN_NODE] = "unknown-node",
    [CB_REASON_OPERATOR_DRAIN] = "operator-drain",
    [CB_REASON_OPERATOR_TERMINATE] = "operator-terminate",
    [CB_REASON_INSTANCE_STOPPED] = "instance-stopped",
};

const char *cb_core_reason_name(enum cb_core_reason r)
{
    if ((unsigned)r >= CB_REASON__COUNT || reason_names[r] == NULL)
        return "unknown";
    return reason_names[r];
}

int cb_core_reason_parse(const char *word, enum cb_core_reason *out)
{
    for (unsigned i = 0; i < CB_REASON__COUNT; i++) {
        if (reason_names[i] != NULL && strcmp(word, reason_names[i]) == 0) {
            *out = (enum cb_core_reason)i;
            return 0;
        }
    }
    return -1;
}

const char *cb_core_action_kind_name(enum cb_core_action_kind k)
{
    static const char *const names[CB_ACTION__COUNT] = {
        [CB_ACTION_BOOT] = "boot", [CB_ACTION_BOOTSTRAP] = "bootstrap",
        [CB_ACTION_DRAIN] = "drain", [CB_ACTION_CANCEL_DRAIN] = "cancel-drain",
        [CB_ACTION_TERMINATE] = "terminate", [CB_ACTION_ADOPT] = "adopt",
    };
    return (unsigned)k < CB_ACTION__COUNT ? names[k] : "unknown";
}

const char *cb_core_event_kind_name(enum cb_core_event_kind k)
{
    static const char *const names[CB_EVENT__COUNT] = {
        [CB_EVENT_BOOT_ACCEPTED] = "boot-accepted", [CB_EVENT_BOOT_FAILED] = "boot-failed",
        [CB_EVENT_BOOTSTRAP_OK] = "bootstrap-ok", [CB_EVENT_BOOTSTRAP_FAILED] = "bootstrap-failed",
        [CB_EVENT_DRAIN_STARTED] = "drain-started", [CB_EVENT_DRAIN_FAILED] = "drain-failed",
        [CB_EVENT_CANCEL_DRAIN_DONE] = "cancel-drain-done",
        [CB_EVENT_TERMINATE_DONE] = "terminate-done",
        [CB_EVENT_TERMINATE_FAILED] = "terminate-failed", [CB_EVENT_PREEMPTED] = "preempted",
        [CB_EVENT_OPERATOR_DRAIN] = "operator-drain",
        [CB_EVENT_OPERATOR_TERMINATE] = "operator-terminate",
    };
    return (unsigned)k < CB_EVENT__COUNT ? names[k] : "unknown";
}

/* ---- the node table and its id index ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

size_t cbc_find(const struct cb_core *core, const char *node_id)
{
    if (core->hash_cap == 0 || node_id[0] == '\0')
        return CB_CORE_NONE;
    size_t mask = core->hash_cap - 1;
    for (size_t p = (size_t)hash_str(node_id) & mask;; p = (p + 1) & mask) {
        size_t v = core->hash[p];
        if (v == 0)
            return CB_CORE_NONE;
        if (strcmp(core->nodes[v - 1].i.node_id, node_id) == 0)
            return v - 1;
    }
}

static void hash_insert(struct cb_core *core, size_t idx)
{
    size_t mask = core->hash_cap - 1;
    size_t p = (size_t)hash_str(core->nodes[idx].i.node_id) & mask;
    while (core->hash[p] != 0)
        p = (p + 1) & mask;
    core->hash[p] = idx + 1;
}

/* Size the index for at least `want` nodes at load <= 1/2 and fill it. */
static int hash_resize(struct cb_core *core, size_t want)
{
    size_t cap = 64;
    while (cap < want * 2)
        cap *= 2;
    if (cap != core->hash_cap) {
        size_t *h = calloc(cap, sizeof *h);
        if (h == NULL)
            return -1;
        free(core->hash);
        core->hash = h;
        core->hash_cap = cap;
    } else {
        memset(core->hash, 0, cap * sizeof *core->hash);
    }
    for (size_t i = 0; i < core->n_nodes; i++)
        hash_insert(core, i);
    return 0;
}

int cbc_hash_rebuild(struct cb_core *core)
{
    return hash_resize(core, core->n_nodes);
}

struct core_node *cbc_node_add(struct cb_core *core, const char *node_id)
{
    if (core->n_nodes == core->cap_nodes) {
        size_t ncap = core->cap_nodes ? core->cap_nodes * 2 : 64;
        struct core_node *p = realloc(core->nodes, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        core->nodes = p;
        core->cap_nodes = ncap;
    }
    if ((core->n_nodes + 1) * 2 > core->hash_cap) {
        if (hash_resize(core, core->n_nodes + 1) != 0)
            return NULL;
    }
    struct core_node *n = &core->nodes[core->n_nodes];
    memset(n, 0, sizeof *n);
    cbc_copy(n->i.node_id, sizeof n->i.node_id, node_id);
    n->i.requested_at = n->i.booted_at = n->i.running_at = n->i.joined_at = -1;
    n->i.state_since = n->i.idle_since = n->i.drain_started_at = -1;
    n->absent_since = -1;
    n->expected_empty_at = -1;
    n->terminate_at = -1;
    n->billed_until = -1;
    hash_insert(core, core->n_nodes);
    core->n_nodes++;
    return n;
}

/* Drop gone nodes, keeping creation order. */
void cbc_compact(struct cb_core *core)
{
    size_t w = 0;
    for (size_t r = 0; r < core->n_nodes; r++) {
        if (core->nodes[r].i.state == CB_NODE_GONE)
            continue;
        if (w != r)
            core->nodes[w] = core->nodes[r];
        w++;
    }
    if (w != core->n_nodes) {
        core->n_nodes = w;
        (void)cbc_hash_rebuild(core); /* same or smaller size: cannot fail to fit */
    }
}

/* ---- time, money, health ---- */

int cbc_month_key(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL)
        return -1;
    return (tm.tm_year + 1900) * 12 + tm.tm_mon;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

uint32_t cbc_idle_timeout(const struct cb_core *core, size_t cloud)
{
    const struct cb_core_config *cfg = &core->cfg;
    if (cfg->idle_timeout > 0)
        return cfg->idle_timeout;
    const struct core_cloud *cl = &core->clouds[cloud];
    double t;
    if (cl->n_lat == 0) {
        t = cfg->idle_timeout_prior;
    } else {
        /* Ski rental: keeping an idle VM for about as long as a fresh one
         * takes to become useful bounds the cost at twice the optimum. */
        int64_t s[CB_CORE_LATENCY_SAMPLES];
        memcpy(s, cl->lat, cl->n_lat * sizeof s[0]);
        qsort(s, cl->n_lat, sizeof s[0], cmp_i64);
        t = cfg->idle_learn_factor * (double)s[cl->n_lat / 2];
    }
    if (t < cfg->idle_timeout_min)
        t = cfg->idle_timeout_min;
    if (t > cfg->idle_timeout_max)
        t = cfg->idle_timeout_max;
    return (uint32_t)t;
}

/* ln(x) for x in [1, e], without libm (the core links libc only):
 * ln x = 2 atanh(z), z = (x - 1) / (x + 1) <= 0.47, a fast series. */
static double ln_1_to_e(double x)
{
    double z = (x - 1) / (x + 1), z2 = z * z, term = z, sum = 0;
    for (int k = 0; k < 40 && term > 1e-17; k++) {
        sum += term / (2 * k + 1);
        term *= z2;
    }
    return 2 * sum;
}

uint32_t cbc_node_idle_timeout(const struct cb_core *core, const struct core_node *n)
{
    const struct cb_core_config *cfg = &core->cfg;
    uint32_t b = cbc_idle_timeout(core, n->i.cloud);
    if (cfg->idle_timeout > 0)
        return b;
    /* Randomised ski rental (Karlin, Manasse, McGeoch, Owicki 1994): keep
     * the node idle for T drawn with density e^(t/B) / (B (e - 1)) on
     * [0, B], B the break-even (re-boot) time: expected cost at most
     * e/(e-1) ~ 1.58 times the hindsight optimum, against 2 for always
     * waiting B. The draw is the inverse CDF, T = B ln(1 + u (e - 1)), of a
     * u in [0, 1) hashed from the node id: deterministic, fixed per node. */
    uint64_t h = UINT64_C(1469598103934665603);
    for (const char *p = n->i.node_id; *p; p++) {
        h ^= (unsigned char)*p;
        h *= UINT64_C(1099511628211);
    }
    h ^= h >> 33; /* FNV's low bits mix poorly: fold and scramble (murmur3 fmix) */
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    double u = (double)(h >> 11) * (1.0 / 9007199254740992.0);
    const double e_minus_1 = 1.718281828459045;
    double t = (double)b * ln_1_to_e(1 + u * e_minus_1);
    if (t < cfg->idle_timeout_min)
        t = cfg->idle_timeout_min;
    if (t > b)
        t = b;
    return (uint32_t)t;
}

void cbc_breaker_failure(struct cb_core *core, size_t cloud, size_t flavor, int64_t now)
{
    const struct cb_core_config *cfg = &core->cfg;
    struct core_breaker *b = &core->clouds[cloud].br[flavor];
    if (b->last_failure >= 0 && now - b->last_failure >= cfg->breaker_reset_after) {
        b->backoff = cfg->breaker_backoff_min;
        b->consecutive = 0;
    }
    b->consecutive++;
    b->last_failure = now;
    if (b->consecutive >= cfg->breaker_failures) {
        b->open_until = now + b->backoff;
        uint64_t next = (uint64_t)b->backoff * 2;
        b->backoff = next > cfg->breaker_backoff_max ? cfg->breaker_backoff_max : (uint32_t)next;
    }
}

void cbc_breaker_success(struct cb_core *core, size_t cloud, size_t flavor)
{
    core->clouds[cloud].br[flavor].consecutive = 0;
}

bool cbc_breaker_open(const struct cb_core *core, size_t cloud, size_t flavor, int64_t now)
{
    return now < core->clouds[cloud].br[flavor].open_until;
}

/* The open period is over but no success has closed it yet: one probe at a time. */
bool cbc_breaker_half_open(const struct cb_core *core, size_t cloud, size_t flavor, int64_t now)
{
    const struct core_breaker *b = &core->clouds[cloud].br[flavor];
    return b->consecutive >= core->cfg.breaker_failures && now >= b->open_until;
}

bool cbc_node_in_flight(const struct core_node *n)
{
    enum cb_node_state s = n->i.state;
    return s == CB_NODE_REQUESTED || s == CB_NODE_BOOTING || s == CB_NODE_BOOTSTRAPPING;
}

/* Whether the node is (or may be) billed. */
bool cbc_node_costs(const struct core_node *n)
{
    return cb_node_state_is_live(n->i.state) && !n->terminate_done;
}

double cbc_node_cost(const struct cb_core *core, const struct core_node *n)
{
    return core->clouds[n->i.cloud].flavors[n->i.flavor].cost_per_hour;
}

/* ---- new / free ---- */

static int cmp_clouds(const void *a, const void *b, void *arg);

/* qsort has no context argument in C11: an insertion sort over <= 64 clouds. */
static void order_clouds(struct cb_core *core)
{
    for (size_t i = 0; i < core->n_clouds; i++)
        core->cloud_order[i] = i;
    for (size_t i = 1; i < core->n_clouds; i++) {
        size_t v = core->cloud_order[i];
        size_t j = i;
        while (j > 0 && cmp_clouds(&core->cloud_order[j - 1], &v, core) > 0) {
            core->cloud_order[j] = core->cloud_order[j - 1];
            j--;
        }
        core->cloud_order[j] = v;
    }
}

static int cmp_clouds(const void *a, const void *b, void *arg)
{
    const struct cb_core *core = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    const struct core_cloud *cx = &core->clouds[x], *cy = &core->clouds[y];
    if (cx->c.priority != cy->c.priority)
        return cx->c.priority < cy->c.priority ? -1 : 1;
    if (cx->min_cost_per_core != cy->min_cost_per_core)
        return cx->min_cost_per_core < cy->min_cost_per_core ? -1 : 1;
    return (x > y) - (x < y);
}

int cb_core_new(struct cb_core **out, const struct cb_core_config *cfg, struct cb_err *err)
{
    *out = NULL;
    if (cb_core_config_check(cfg, err) != 0)
        return -1;
    struct cb_core *core = calloc(1, sizeof *core);
    if (core == NULL)
        return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
    core->cfg = *cfg;
    core->cfg.clouds = NULL;
    core->last_now = INT64_MIN;
    core->next_deadline = CB_CORE_NEVER;
    core->global_month_key = -1;
    core->n_clouds = cfg->n_clouds;
    if (cfg->n_clouds > 0) {
        core->clouds = calloc(cfg->n_clouds, sizeof *core->clouds);
        core->cloud_order = calloc(cfg->n_clouds, sizeof *core->cloud_order);
        if (core->clouds == NULL || core->cloud_order == NULL)
            goto oom;
    }
    for (size_t c = 0; c < cfg->n_clouds; c++) {
        struct core_cloud *cl = &core->clouds[c];
        cl->c = cfg->clouds[c];
        cl->flavors = calloc(cl->c.n_flavors, sizeof *cl->flavors);
        cl->br = calloc(cl->c.n_flavors, sizeof *cl->br);
        if (cl->flavors == NULL || cl->br == NULL)
            goto oom;
        memcpy(cl->flavors, cfg->clouds[c].flavors, cl->c.n_flavors * sizeof *cl->flavors);
        cl->c.flavors = cl->flavors;
        cl->month_key = -1;
        cl->min_cost_per_core = -1;
        for (size_t f = 0; f < cl->c.n_flavors; f++) {
            cl->br[f].backoff = cfg->breaker_backoff_min;
            cl->br[f].last_failure = -1;
            double cpc = cl->flavors[f].cost_per_hour / cl->flavors[f].cpus;
            if (cl->min_cost_per_core < 0 || cpc < cl->min_cost_per_core)
                cl->min_cost_per_core = cpc;
        }
    }
    order_clouds(core);
    if (cbc_hash_rebuild(core) != 0)
        goto oom;
    *out = core;
    return 0;
oom:
    cb_core_free(core);
    return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
}

void cb_core_free(struct cb_core *core)
{
    if (core == NULL)
        return;
    for (size_t c = 0; c < core->n_clouds; c++) {
        free(core->clouds[c].flavors);
        free(core->clouds[c].br);
    }
    free(core->clouds);
    free(core->cloud_order);
    free(core->nodes);
    free(core->hash);
    free(core);
}

/* ---- restore ---- */

/* n if id is "<prefix>-<n>" with n decimal, else 0. */
static uint64_t batch_seq_of(const struct cb_core *core, const char *batch_id)
{
    size_t pl = strlen(core->cfg.batch_prefix);
    if (strncmp(batch_id, core->cfg.batch_prefix, pl) != 0 || batch_id[pl] != '-')
        return 0;
    const char *p = batch_id + pl + 1;
    if (*p == '\0')
        return 0;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

int cb_core_restore_node(struct cb_core *core, const struct cb_core_node_info *node,
                         struct cb_err *err)
{
    char at[CB_NAME_MAX + 16];
    if (memchr(node->node_id, '\0', sizeof node->node_id) == NULL || node->node_id[0] == '\0')
        return cbc_err(err, CB_ERR_INVALID, "restore", "node id missing or not terminated");
    snprintf(at, sizeof at, "node %s", node->node_id);
    if ((unsigned)node->state >= CB_NODE__COUNT)
        return cbc_err(err, CB_ERR_INVALID, at, "unknown state %d", (int)node->state);
    if (node->state == CB_NODE_GONE)
        return 0;
    if (node->cloud >= core->n_clouds)
        return cbc_err(err, CB_ERR_INVALID, at, "cloud index %u out of range", node->cloud);
    if (node->flavor >= core->clouds[node->cloud].c.n_flavors)
        return cbc_err(err, CB_ERR_INVALID, at, "flavor index %u out of range", node->flavor);
    if (memchr(node->batch_id, '\0', sizeof node->batch_id) == NULL ||
        memchr(node->instance_id, '\0', sizeof node->instance_id) == NULL)
        return cbc_err(err, CB_ERR_INVALID, at, "batch or instance id not terminated");
    if (cbc_find(core, node->node_id) != CB_CORE_NONE)
        return cbc_err(err, CB_ERR_INVALID, at, "restored twice");
    struct core_node *n = cbc_node_add(core, node->node_id);
    if (n == NULL)
        return cbc_err(err, CB_ERR_INTERNAL, at, "out of memory");
    n->i = *node;
    n->i.operator_terminate |= n->i.operator_force;
    n->i.operator_drain |= n->i.operator_terminate;
    if (n->i.state == CB_NODE_DRAINING) {
        /* The drain command may or may not have run before the crash: the
         * node is treated as draining, and re-confirmed by the pool ad. */
        n->drain_reason = n->i.operator_drain ? CB_REASON_OPERATOR_DRAIN
                                              : CB_REASON_IDLE_TIMEOUT;
        if (n->i.drain_started_at < 0)
            n->i.drain_started_at = n->i.state_since;
    }
    if (n->i.state == CB_NODE_TERMINATING) {
        n->terminate_pending = false; /* re-issue: terminating twice is harmless */
        n->first_terminate_at = n->i.state_since;
    }
    /* Whether it ran a job when last seen is in the ledger. Where the ledger
     * does not know, assume it may have if it ever did, so a missing ad
     * right after the restart is not taken for an empty node (a drained
     * node's final terminate and a terminate retry then wait for
     * lost_timeout of absence instead). */
    if (n->i.state == CB_NODE_TERMINATING || n->i.state == CB_NODE_DRAINING)
        n->last_seen_busy = n->i.seen_busy == CB_SEEN_UNKNOWN ? n->i.ever_busy
                                                              : n->i.seen_busy == CB_SEEN_BUSY;
    if (n->i.state == CB_NODE_IDLE || n->i.state == CB_NODE_BUSY)
        n->idle_cpus = 0;               /* unknown until the pool is seen */
    uint64_t seq = batch_seq_of(core, node->batch_id);
    if (seq > core->batch_seq)
        core->batch_seq = seq;
    return 0;
}

void cb_core_restore_batch_seq(struct cb_core *core, uint64_t highest_used)
{
    if (highest_used > core->batch_seq)
        core->batch_seq = highest_used;
}

int cb_core_restore_spend(struct cb_core *core, unsigned cloud, int64_t month_at, double spent,
                          struct cb_err *err)
{
    if (cloud >= core->n_clouds)
        return cbc_err(err, CB_ERR_INVALID, "restore", "cloud index %u out of range", cloud);
    if (!money_ok(spent))
        return cbc_err(err, CB_ERR_INVALID, "restore", "spend must be >= 0");
    int key = cbc_month_key(month_at);
    if (key < 0)
        return cbc_err(err, CB_ERR_INVALID, "restore", "month_at out of range");
    struct core_cloud *cl = &core->clouds[cloud];
    if (cl->month_key != key) {
        cl->month_key = key;
        cl->spent_month = 0;
    }
    cl->spent_month += spent;
    return 0;
}

int cb_core_restore_latency(struct cb_core *core, unsigned cloud, int64_t latency_s,
                            struct cb_err *err)
{
    if (cloud >= core->n_clouds)
        return cbc_err(err, CB_ERR_INVALID, "restore", "cloud index %u out of range", cloud);
    if (latency_s < 0 || latency_s > 7 * 86400)
        return cbc_err(err, CB_ERR_INVALID, "restore", "latency %" PRId64 " out of range",
                        latency_s);
    struct core_cloud *cl = &core->clouds[cloud];
    cl->lat[cl->lat_pos] = latency_s;
    cl->lat_pos = (cl->lat_pos + 1) % CB_CORE_LATENCY_SAMPLES;
    if (cl->n_lat < CB_CORE_LATENCY_SAMPLES)
        cl->n_lat++;
    return 0;
}

/* ---- inspection ---- */

size_t cb_core_node_count(const struct cb_core *core)
{
    return core->n_nodes;
}

int cb_core_node_at(const struct cb_core *core, size_t i, struct cb_core_node_info *out)
{
    memset(out, 0, sizeof *out);
    if (i >= core->n_nodes)
        return -1;
    *out = core->nodes[i].i;
    return 0;
}

int cb_core_node_find(const struct cb_core *core, const char *node_id,
                      struct cb_core_node_info *out)
{
    memset(out, 0, sizeof *out);
    size_t i = cbc_find(core, node_id);
    if (i == CB_CORE_NONE)
        return -1;
    *out = core->nodes[i].i;
    return 0;
}

uint32_t cb_core_idle_timeout(const struct cb_core *core, unsigned cloud)
{
    if (cloud >= core->n_clouds)
        return 0;
    return cbc_idle_timeout(core, cloud);
}

uint64_t cb_core_batch_seq(const struct cb_core *core)
{
    return core->batch_seq;
}

int64_t cb_core_next_deadline(const struct cb_core *core)
{
    return core->next_deadline;
}

/* ---- output ---- */

void cb_core_output_free(struct cb_core_output *out)
{
    free(out->actions);
    free(out->records);
    free(out->nondecisions);
    free(out->clouds);
    memset(out, 0, sizeof *out);
}

static void *grow(void **items, size_t *n, size_t *cap, size_t elem)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 32;
        void *p = realloc(*items, ncap * elem);
        if (p == NULL)
            return NULL;
        *items = p;
        *cap = ncap;
    }
    void *slot = (char *)*items + (*n)++ * elem;
    memset(slot, 0, elem);
    return slot;
}

struct cb_core_action *cbc_out_action(struct cb_core_output *out, size_t *index)
{
    struct cb_core_action *a =
        grow((void **)&out->actions, &out->n_actions, &out->cap_actions, sizeof *a);
    if (a != NULL) {
        a->count = 1;
        *index = out->n_actions - 1;
    }
    return a;
}

struct cb_core_record *cbc_out_record(struct cb_core_output *out)
{
    struct cb_core_record *r =
        grow((void **)&out->records, &out->n_records, &out->cap_records, sizeof *r);
    if (r != NULL)
        r->action = CB_CORE_NONE;
    return r;
}

int cbc_out_nondecision(struct cb_core_output *out, enum cb_core_reason reason, size_t cloud,
                         size_t flavor, size_t shape, const char *node_id, uint64_t amount)
{
    /* Aggregate with the previous entry of the same key (plans emit runs). */
    if (out->n_nondecisions > 0 && (node_id == NULL || node_id[0] == '\0')) {
        struct cb_core_nondecision *l = &out->nondecisions[out->n_nondecisions - 1];
        if (l->reason == reason && l->cloud == cloud && l->flavor == flavor &&
            l->shape == shape && l->node_id[0] == '\0') {
            l->amount += amount;
            return 0;
        }
    }
    struct cb_core_nondecision *d = grow((void **)&out->nondecisions, &out->n_nondecisions,
                                         &out->cap_nondecisions, sizeof *d);
    if (d == NULL)
        return -1;
    d->reason = reason;
    d->cloud = cloud;
    d->flavor = flavor;
    d->shape = shape;
    d->amount = amount;
    if (node_id != NULL)
        cbc_copy(d->node_id, sizeof d->node_id, node_id);
    return 0;
}

int cbc_transition(struct cb_core *core, struct cb_core_output *out, struct core_node *n,
                    enum cb_node_state to, enum cb_core_reason reason, size_t action,
                    int64_t now, struct cb_err *err)
{
    enum cb_node_state from = n->i.state;
    if (!cb_node_transition_allowed(from, to))
        return cbc_err(err, CB_ERR_INTERNAL, n->i.node_id,
                        "core proposed illegal transition %s -> %s (%s)",
                        cb_node_state_name(from), cb_node_state_name(to),
                        cb_core_reason_name(reason));
    struct cb_core_record *r = cbc_out_record(out);
    if (r == NULL)
        return cbc_err(err, CB_ERR_INTERNAL, "core", "out of memory");
    r->kind = CB_RECORD_TRANSITION;
    r->reason = reason;
    r->action = action;
    r->at = now;
    r->cloud = n->i.cloud;
    r->flavor = n->i.flavor;
    cbc_copy(r->node_id, sizeof r->node_id, n->i.node_id);
    cbc_copy(r->batch_id, sizeof r->batch_id, n->i.batch_id);
    cbc_copy(r->instance_id, sizeof r->instance_id, n->i.instance_id);
    r->from = from;
    r->to = to;
    if (to == CB_NODE_IDLE || to == CB_NODE_BUSY)
        n->i.seen_busy = to == CB_NODE_BUSY ? CB_SEEN_BUSY : CB_SEEN_EMPTY;
    n->i.state = to;
    n->i.state_since = now;
    (void)core;
    return 0;
}

size_t cbc_node_action(struct cb_core_output *out, const struct core_node *n,
                        enum cb_core_action_kind kind, enum cb_core_reason reason)
{
    size_t idx;
    struct cb_core_action *a = cbc_out_action(out, &idx);
    if (a == NULL)
        return CB_CORE_NONE;
    a->kind = kind;
    a->reason = reason;
    a->cloud = n->i.cloud;
    a->flavor = n->i.flavor;
    cbc_copy(a->node_id, sizeof a->node_id, n->i.node_id);
    cbc_copy(a->batch_id, sizeof a->batch_id, n->i.batch_id);
    cbc_copy(a->instance_id, sizeof a->instance_id, n->i.instance_id);
    return idx;
}
