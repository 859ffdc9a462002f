/* pool: options, argument vectors and drain targets of the pool adapter.
 * The tools themselves run in pool_run.c. See pool.h. */
#include "pool_internal.h"

#include "cb_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options --------------------------------------------------------- */

static bool is_identifier(const char *s)
{
    if (s == NULL || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

/* Non-empty, bounded, no control characters, parentheses balanced outside
 * string literals, and no unterminated string. */
static int check_expression(const char *e, size_t i, struct cb_err *err)
{
    char where[64];
    snprintf(where, sizeof where, "pool.eligibility[%zu]", i);
    if (e == NULL || e[0] == '\0')
        return cb_err_set(err, CB_ERR_INVALID, where, "empty eligibility expression");
    size_t len = strlen(e);
    if (len > CB_POOL_EXPR_MAX)
        return cb_err_set(err, CB_ERR_INVALID, where, "expression longer than %d bytes",
                          CB_POOL_EXPR_MAX);
    int depth = 0;
    bool in_str = false;
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)e[k];
        if (c < 0x20 || c == 0x7f)
            return cb_err_set(err, CB_ERR_INVALID, where,
                              "control character in expression at byte %zu", k);
        if (in_str) {
            if (c == '\\' && k + 1 < len)
                k++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '(')
            depth++;
        else if (c == ')' && --depth < 0)
            return cb_err_set(err, CB_ERR_INVALID, where,
                              "unbalanced ')' at byte %zu of the expression", k);
    }
    if (in_str)
        return cb_err_set(err, CB_ERR_INVALID, where, "unterminated string in expression");
    if (depth != 0)
        return cb_err_set(err, CB_ERR_INVALID, where, "unbalanced '(' in expression");
    return 0;
}

static char *dup_or(const char *s, const char *dflt, bool *oom)
{
    char *d = cb_strdup(s != NULL && s[0] != '\0' ? s : dflt);
    if (d == NULL)
        *oom = true;
    return d;
}

static char **dup_list(const char *const *items, size_t n, bool *oom)
{
    char **l = calloc(n + 1, sizeof *l);
    if (l == NULL) {
        *oom = true;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        l[i] = cb_strdup(items[i] != NULL ? items[i] : "");
        if (l[i] == NULL)
            *oom = true;
    }
    return l;
}

static void free_list(char **l)
{
    for (size_t i = 0; l != NULL && l[i] != NULL; i++)
        free(l[i]);
    free(l);
}

int cb_pool_new(struct cb_pool **out, const struct cb_pool_options *o, struct cb_err *err)
{
    *out = NULL;
    if (o->n_clouds == 0 || o->n_clouds > CB_MAX_CLOUDS || o->eligibility == NULL)
        return cb_err_set(err, CB_ERR_INVALID, "pool", "need 1..%d clouds with an eligibility "
                          "expression each, got %zu", CB_MAX_CLOUDS, o->n_clouds);
    if (o->n_schedds > CB_POOL_MAX_SCHEDDS)
        return cb_err_set(err, CB_ERR_INVALID, "pool.schedds", "more than %d schedds",
                          CB_POOL_MAX_SCHEDDS);
    if (o->n_drain_args > CB_POOL_MAX_DRAIN_ARGS)
        return cb_err_set(err, CB_ERR_INVALID, "pool.drain_args", "more than %d arguments",
                          CB_POOL_MAX_DRAIN_ARGS);
    const char *attr = o->cloud_attribute != NULL && o->cloud_attribute[0] != '\0'
                           ? o->cloud_attribute : "IsCloudNode";
    if (!is_identifier(attr) || strlen(attr) > 63)
        return cb_err_set(err, CB_ERR_INVALID, "pool.cloud_attribute",
                          "not a ClassAd attribute name");
    if (o->runtime_attribute != NULL && o->runtime_attribute[0] != '\0' &&
        (!is_identifier(o->runtime_attribute) || strlen(o->runtime_attribute) > 63))
        return cb_err_set(err, CB_ERR_INVALID, "pool.runtime_attribute",
                          "not a ClassAd attribute name");
    for (size_t i = 0; i < o->n_clouds; i++)
        if (check_expression(o->eligibility[i], i, err) != 0)
            return -1;
    for (size_t i = 0; i < o->n_schedds; i++) {
        const char *s = o->schedds[i];
        if (s == NULL || s[0] == '\0' || s[0] == '-' || strlen(s) >= CB_HOST_MAX)
            return cb_err_set(err, CB_ERR_INVALID, "pool.schedds", "bad schedd name [%zu]", i);
        for (const char *p = s; *p != '\0'; p++)
            if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                return cb_err_set(err, CB_ERR_INVALID, "pool.schedds",
                                  "schedd name [%zu] has a space or control character", i);
    }
    if (o->collector != NULL && o->collector[0] == '-')
        return cb_err_set(err, CB_ERR_INVALID, "pool.collector", "must not start with '-'");

    struct cb_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
    bool oom = false;
    p->condor_q = dup_or(o->condor_q, "condor_q", &oom);
    p->condor_status = dup_or(o->condor_status, "condor_status", &oom);
    p->condor_drain = dup_or(o->condor_drain, "condor_drain", &oom);
    p->collector = dup_or(o->collector, "", &oom);
    p->cloud_attribute = dup_or(attr, attr, &oom);
    p->schedds = dup_list(o->schedds, o->n_schedds, &oom);
    p->n_schedds = o->n_schedds;
    p->eligibility = dup_list(o->eligibility, o->n_clouds, &oom);
    p->n_clouds = o->n_clouds;
    p->cloud_names = calloc(o->n_clouds + 1, sizeof *p->cloud_names);
    if (p->cloud_names == NULL)
        oom = true;
    for (size_t i = 0; p->cloud_names != NULL && i < o->n_clouds; i++) {
        char dflt[32];
        snprintf(dflt, sizeof dflt, "cloud%zu", i);
        p->cloud_names[i] = dup_or(o->cloud_names != NULL ? o->cloud_names[i] : NULL, dflt, &oom);
    }
    if (o->runtime_attribute != NULL && o->runtime_attribute[0] != '\0') {
        p->runtime_attrs[0] = dup_or(o->runtime_attribute, "", &oom);
        p->n_runtime = 1;
    } else {
        static const char *const dflt[] = {"MaxWallTime", "RequestRuntime",
                                           "JobDurationEstimate"};
        for (size_t i = 0; i < 3; i++)
            p->runtime_attrs[i] = dup_or(dflt[i], "", &oom);
        p->n_runtime = 3;
    }
    p->drain_args = dup_list(o->drain_args, o->n_drain_args, &oom);
    p->n_drain_args = o->n_drain_args;
    p->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : CB_POOL_DEFAULT_TIMEOUT_MS;
    p->totals_first = o->totals_first;
    if (oom) {
        cb_pool_free(p);
        return cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
    }
    *out = p;
    return 0;
}

void cb_pool_free(struct cb_pool *p)
{
    if (p == NULL)
        return;
    free(p->condor_q);
    free(p->condor_status);
    free(p->condor_drain);
    free(p->collector);
    free(p->cloud_attribute);
    free_list(p->schedds);
    free_list(p->eligibility);
    free_list(p->cloud_names);
    for (size_t i = 0; i < POOL_MAX_RUNTIME_COLS; i++)
        free(p->runtime_attrs[i]);
    free_list(p->drain_args);
    free(p->drain_names);
    free(p);
}

size_t cb_pool_n_clouds(const struct cb_pool *pool)
{
    return pool->n_clouds;
}

const char *cb_pool_cloud_name(const struct cb_pool *pool, size_t i)
{
    return i < pool->n_clouds ? pool->cloud_names[i] : "?";
}

/* ---- argument vectors ------------------------------------------------ */

struct argv_b {
    char **v;
    size_t n, cap;
    bool oom;
};

static void argv_add(struct argv_b *a, const char *s)
{
    if (a->oom)
        return;
    if (a->n + 2 > a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 16;
        char **nv = realloc(a->v, ncap * sizeof *nv);
        if (nv == NULL) {
            a->oom = true;
            return;
        }
        a->v = nv;
        a->cap = ncap;
    }
    a->v[a->n] = cb_strdup(s);
    if (a->v[a->n] == NULL) {
        a->oom = true;
        return;
    }
    a->v[++a->n] = NULL;
}

void cb_pool_argv_free(char **argv)
{
    free_list(argv);
}

/* 'JobStatus == 1 && ((<e0>) || (<e1>) ...)' */
static char *demand_constraint(const struct cb_pool *p)
{
    size_t len = 64;
    for (size_t i = 0; i < p->n_clouds; i++)
        len += strlen(p->eligibility[i]) + 8;
    char *c = malloc(len);
    if (c == NULL)
        return NULL;
    size_t o = (size_t)snprintf(c, len, "JobStatus == 1 && (");
    for (size_t i = 0; i < p->n_clouds; i++)
        o += (size_t)snprintf(c + o, len - o, "%s(%s)", i > 0 ? " || " : "", p->eligibility[i]);
    snprintf(c + o, len - o, ")");
    return c;
}

static void add_pool_arg(struct argv_b *a, const struct cb_pool *p)
{
    if (p->collector[0] != '\0') {
        argv_add(a, "-pool");
        argv_add(a, p->collector);
    }
}

static const char slot_attrs[] =
    "Name,Machine,SlotType,PartitionableSlot,DynamicSlot,State,Activity,Cpus,TotalSlotCpus,"
    "Memory,TotalSlotMemory,Disk,TotalSlotDisk,ChildState,ChildCpus,CloudburstNodeId,"
    "CloudInstanceId,CloudName,LastHeardFrom,DaemonStartTime,EnteredCurrentActivity,"
    "NumDynamicSlotsTime,JobStart";
static const char startd_attrs[] = "Name,Machine,Draining,DrainReason,DaemonStartTime";

char **cb_pool_argv(const struct cb_pool *p, const char *which, size_t schedd_index,
                    struct cb_err *err)
{
    struct argv_b a = {0};
    bool demand = strcmp(which, "demand") == 0, totals = strcmp(which, "totals") == 0;
    bool slots = strcmp(which, "slots") == 0, startd = strcmp(which, "startd") == 0;

    if (demand || totals) {
        argv_add(&a, p->condor_q);
        argv_add(&a, "-allusers");
        if (p->n_schedds == 0) {
            argv_add(&a, "-global");
        } else {
            if (schedd_index >= p->n_schedds) {
                cb_err_set(err, CB_ERR_INVALID, "pool", "no schedd %zu", schedd_index);
                goto fail;
            }
            argv_add(&a, "-name");
            argv_add(&a, p->schedds[schedd_index]);
        }
        add_pool_arg(&a, p);
        char *c = demand_constraint(p);
        if (c == NULL) {
            a.oom = true;
        } else {
            argv_add(&a, "-constraint");
            argv_add(&a, c);
            free(c);
        }
        if (totals) {
            argv_add(&a, "-totals");
        } else {
            static const char *const cols[] = {"ClusterId", "ProcId", "RequestCpus",
                                               "RequestMemory", "RequestDisk", "QDate",
                                               "Owner", "JobUniverse"};
            argv_add(&a, "-af:t");
            for (size_t i = 0; i < POOL_DEMAND_FIXED_COLS; i++)
                argv_add(&a, cols[i]);
            for (size_t i = 0; i < p->n_runtime; i++)
                argv_add(&a, p->runtime_attrs[i]);
            for (size_t i = 0; i < p->n_clouds; i++) {
                size_t len = strlen(p->eligibility[i]) + 16;
                char *col = malloc(len);
                if (col == NULL) {
                    a.oom = true;
                    break;
                }
                snprintf(col, len, "(%s) =?= true", p->eligibility[i]);
                argv_add(&a, col);
                free(col);
            }
        }
    } else if (slots || startd) {
        char c[128];
        argv_add(&a, p->condor_status);
        if (startd)
            argv_add(&a, "-startd");
        add_pool_arg(&a, p);
        snprintf(c, sizeof c, "%s =?= True", p->cloud_attribute);
        argv_add(&a, "-constraint");
        argv_add(&a, c);
        argv_add(&a, "-json");
        argv_add(&a, "-attributes");
        if (startd) {
            argv_add(&a, startd_attrs);
        } else {
            size_t len = sizeof slot_attrs + 3 * 64 + 4;
            char *attrs = malloc(len);
            if (attrs == NULL) {
                a.oom = true;
            } else {
                size_t o = (size_t)snprintf(attrs, len, "%s", slot_attrs);
                for (size_t i = 0; i < p->n_runtime; i++)
                    o += (size_t)snprintf(attrs + o, len - o, ",%s", p->runtime_attrs[i]);
                argv_add(&a, attrs);
                free(attrs);
            }
        }
    } else {
        cb_err_set(err, CB_ERR_INVALID, "pool", "unknown query '%s'", which);
        goto fail;
    }
    if (a.oom) {
        cb_err_set(err, CB_ERR_INTERNAL, "pool", "out of memory");
        goto fail;
    }
    return a.v;
fail:
    free_list(a.v);
    return NULL;
}

char **pool_drain_argv(const struct cb_pool *p, const char *target, bool cancel)
{
    struct argv_b a = {0};
    argv_add(&a, p->condor_drain);
    add_pool_arg(&a, p);
    if (cancel) {
        argv_add(&a, "-cancel");
    } else {
        argv_add(&a, "-graceful");
        for (size_t i = 0; i < p->n_drain_args; i++)
            argv_add(&a, p->drain_args[i]);
    }
    argv_add(&a, target);
    if (a.oom) {
        free_list(a.v);
        return NULL;
    }
    return a.v;
}

/* ---- drain targets ---------------------------------------------------- */

int cb_pool_drain_target(const struct cb_pool *pool, const char *machine, char *out, size_t size,
                         struct cb_err *err)
{
    if (machine == NULL || machine[0] == '\0' || machine[0] == '-')
        return cb_err_set(err, CB_ERR_INVALID, "pool", "bad machine name for condor_drain");
    for (size_t i = 0; i < pool->n_drain_names; i++) {
        if (strcmp(pool->drain_names[i].machine, machine) == 0 &&
            pool->drain_names[i].target[0] != '\0') {
            if (cb_strlcpy(out, pool->drain_names[i].target, size) >= size)
                break;
            return 0;
        }
    }
    if (strchr(machine, '.') != NULL || strchr(machine, '@') != NULL) {
        if (cb_strlcpy(out, machine, size) >= size)
            return cb_err_set(err, CB_ERR_INVALID, "pool", "machine name too long");
        return 0;
    }
    char clean[CB_HOST_MAX];
    return cb_err_set(err, CB_ERR_INVALID, "pool",
                      "cannot drain '%s': condor_drain cannot resolve a name without '.' or '@' "
                      "and no slot of it was seen in the last observation",
                      cb_sanitize(clean, sizeof clean, machine));
}

