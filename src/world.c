/* world: see world.h. */
#include "cb_autoconf.h"
#include "world.h"
#include "bootstrap.h"
#include "cb_text.h"
#include "log.h"
#include "pool.h"
#include "pool_config.h"
#include "userdata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_KNOWN 65536 /* node ids remembered for drains (machine, address) */

/* What the world remembers about a node between cycles: the slot/machine name
 * the pool reported (condor_drain target) and the address the cloud listed
 * (SSH target). */
struct known_node {
    char node_id[CB_NAME_MAX];
    char machine[CB_HOST_MAX];
    char address[CB_ADDR_MAX];
};

struct cb_world {
    uv_loop_t *loop;
    struct cb_pool *pool;
    struct cb_bootstrap *bs;          /* NULL when nothing needs SSH */
    enum cb_drain_method drain_method;
    enum cb_host_key_policy host_key_policy;
    char controller_name[CB_NAME_MAX + 16]; /* the site files borrow it */
    unsigned outstanding;             /* pool queries and drains in flight */
    bool closing;                     /* freed by its owner; free when outstanding hits 0 */

    /* the observation in progress */
    struct cb_demand *demand;
    struct cb_supply *supply;
    cb_world_observed_fn observed;
    void *observed_payload;

    struct known_node *known;
    size_t n_known;

    struct request *requests;         /* node actions in flight */

    struct cb_pool_config pool_cfg;   /* what the pool options borrow */
};

/* A node action in flight. If the world is freed first, `w` is cleared and
 * the completion only frees the request. */
struct request {
    struct cb_world *w;
    struct request *next;
    char node_id[CB_NAME_MAX];
    enum cb_core_action_kind kind;
    cb_world_node_done_fn done;
    void *payload;
    uint64_t started_ns;                /* uv_hrtime() at the start */
};


static void log_to_global(void *payload, enum cb_log_level level, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    (void)payload;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cb_log(level, "bootstrap: %s", buf);
}

static struct known_node *known_find(struct cb_world *w, const char *node_id, bool create)
{
    for (size_t i = 0; i < w->n_known; i++)
        if (strcmp(w->known[i].node_id, node_id) == 0)
            return &w->known[i];
    if (!create || w->n_known >= MAX_KNOWN)
        return NULL;
    if ((w->n_known & (w->n_known - 1)) == 0) { /* grow at powers of two */
        size_t ncap = w->n_known ? w->n_known * 2 : 64;
        struct known_node *p = realloc(w->known, ncap * sizeof *p);
        if (p == NULL)
            return NULL;
        w->known = p;
    }
    struct known_node *k = &w->known[w->n_known++];
    memset(k, 0, sizeof *k);
    cb_strlcpy(k->node_id, node_id, sizeof k->node_id);
    return k;
}

/* The controller ad's Name, which the nodes' lease check looks for. */
static void controller_ad_name(const struct cb_config *cfg, char *buf, size_t size)
{
    snprintf(buf, size, "cloudburst@%s", cfg->pool.name);
}

static void site_from_config(const struct cb_config *cfg, const char *controller_name,
                             struct cb_node_site *site)
{
    memset(site, 0, sizeof *site);
    site->controller_name = controller_name;
    site->lease = cfg->controller.lease;
    site->central_manager = cfg->pool.central_manager;
    site->cloud_attribute = cfg->pool.cloud_attribute;
    site->mode = cfg->pool.mode;
    site->cvmfs_repositories = (const char *const *)cfg->bootstrap.cvmfs.repositories.items;
    site->n_cvmfs_repositories = cfg->bootstrap.cvmfs.repositories.n;
    site->cvmfs_http_proxy = cfg->bootstrap.cvmfs.http_proxy;
    site->cvmfs_quota_limit_mb = cfg->bootstrap.cvmfs.quota_limit_mb;
    site->cvmfs_cache_base = cfg->bootstrap.cvmfs.cache_base;
    site->cms_local_site = cfg->bootstrap.cvmfs.cms_local_site;
    site->cvmfs_repo_url = cfg->bootstrap.cvmfs.repo_url;
    site->token = cfg->bootstrap.condor.token;
    site->token_len = cfg->bootstrap.condor.token_len;
    site->ccb = cfg->bootstrap.condor.ccb;
    site->private_network_name = cfg->bootstrap.condor.private_network_name;
    site->condor_extra_config = (const char *const *)cfg->bootstrap.condor.extra_config.items;
    site->n_condor_extra_config = cfg->bootstrap.condor.extra_config.n;
    site->condor_repo_url = cfg->bootstrap.condor.repo_url;
}

int cb_world_new(struct cb_world **out, uv_loop_t *loop, const struct cb_config *cfg,
                 struct cb_err *err)
{
    struct cb_world *w = calloc(1, sizeof *w);

    *out = NULL;
    if (w == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "world", "out of memory");
    w->loop = loop;
    w->drain_method = cfg->pool.drain_method;
    w->host_key_policy = cfg->bootstrap.ssh.host_key_policy;
    controller_ad_name(cfg, w->controller_name, sizeof w->controller_name);
    if (cb_pool_config_from(cfg, &w->pool_cfg, err) != 0) {
        cb_world_free(w);
        return -1;
    }
    if (cb_pool_new(&w->pool, &w->pool_cfg.opts, err) != 0) {
        cb_world_free(w);
        return -1;
    }
    /* SSH is needed to bootstrap (method ssh) or to drain on the node. */
    if (cfg->bootstrap.method == CB_BOOTSTRAP_SSH || cfg->pool.drain_method == CB_DRAIN_SSH) {
        struct cb_bootstrap_options bo = {
            .user = cfg->bootstrap.ssh.user,
            .key_file = cfg->bootstrap.ssh.key_file,
            .port = cfg->bootstrap.ssh.port,
            .host_key_policy = cfg->bootstrap.ssh.host_key_policy,
            .known_hosts_file = cfg->bootstrap.ssh.known_hosts_file,
            .connect_timeout = cfg->bootstrap.ssh.connect_timeout,
            .wait_timeout = cfg->controller.join_timeout,
            .step_timeout = cfg->bootstrap.ssh.step_timeout,
            .sudo = cfg->bootstrap.ssh.sudo,
            .script_dir = cfg->bootstrap.script_dir,
            .failure_action = cfg->bootstrap.failure_action,
            .quarantine_time = cfg->bootstrap.quarantine_time,
            .state_dir = cfg->controller.state_dir,
            .max_concurrent = cfg->bootstrap.max_concurrent,
            .log = log_to_global,
        };
        site_from_config(cfg, w->controller_name, &bo.site);
        if (cb_bootstrap_create(&w->bs, &bo, err) != 0) {
            cb_world_free(w);
            return -1;
        }
    }
    *out = w;
    return 0;
}

static void world_release(struct cb_world *w)
{
    cb_pool_free(w->pool);
    free(w->known);
    cb_pool_config_free(&w->pool_cfg);
    free(w);
}

void cb_world_free(struct cb_world *w)
{
    if (w == NULL)
        return;
    /* Orphan the node actions still running: their completions only free
     * themselves from now on. */
    for (struct request *r = w->requests; r != NULL; r = r->next)
        r->w = NULL;
    w->requests = NULL;
    if (w->bs != NULL) {
        cb_bootstrap_free(w->bs); /* cancels sessions; their callbacks see orphans */
        w->bs = NULL;
    }
    w->closing = true;
    w->observed = NULL;
    /* A pool query or drain still running references the pool: the last
     * completion frees the world. */
    if (w->outstanding == 0)
        world_release(w);
}


/* ---- observe ------------------------------------------------------------- */

static void finish_outstanding(struct cb_world *w)
{
    if (--w->outstanding == 0 && w->closing)
        world_release(w);
}

static void on_query(void *payload, int status, struct cb_demand *demand, struct cb_supply *supply,
                     const struct cb_pool_stats *stats, const struct cb_err *err)
{
    struct cb_world *w = payload;

    if (w->closing || w->observed == NULL) {
        cb_demand_free(demand);
        cb_supply_free(supply);
        finish_outstanding(w);
        return;
    }
    if (status == 0) {
        *w->demand = *demand; /* moved */
        *w->supply = *supply;
        memset(demand, 0, sizeof *demand);
        memset(supply, 0, sizeof *supply);
        for (size_t i = 0; i < w->supply->n; i++) {
            const struct cb_pool_node *n = &w->supply->nodes[i];
            if (n->node_id[0] == '\0')
                continue;
            struct known_node *k = known_find(w, n->node_id, true);
            if (k != NULL)
                cb_strlcpy(k->machine, n->machine, sizeof k->machine);
        }
        if (stats != NULL)
            cb_debug("pool: %llu job line(s), %llu skipped, %zu slot ad(s), %u tool run(s)%s",
                     (unsigned long long)stats->jobs_seen, (unsigned long long)stats->jobs_skipped,
                     stats->slot_ads, stats->tools_run,
                     stats->projection_skipped ? ", nothing idle (-totals)" : "");
    } else {
        cb_demand_free(demand);
        cb_supply_free(supply);
    }
    cb_world_observed_fn done = w->observed;
    w->observed = NULL;
    w->outstanding--; /* before the callback: it may free the world */
    done(w->observed_payload, status, err);
}

int cb_world_observe(struct cb_world *w, struct cb_demand *demand, struct cb_supply *supply,
                     cb_world_observed_fn done, void *payload, struct cb_err *err)
{
    if (w->observed != NULL)
        return cb_err_set(err, CB_ERR_BUSY, "pool", "the previous pool query is still running");
    w->demand = demand;
    w->supply = supply;
    w->observed = done;
    w->observed_payload = payload;
    if (cb_pool_query_start(w->pool, w->loop, on_query, w, err) != 0) {
        w->observed = NULL;
        return -1;
    }
    w->outstanding++;
    return 0;
}

void cb_world_learn_addresses(struct cb_world *w, const struct cb_instance_list *listing)
{
    for (size_t i = 0; listing != NULL && i < listing->n; i++) {
        const struct cb_instance *in = &listing->items[i];
        const char *addr = in->private_ip[0] ? in->private_ip : in->public_ip;
        if (in->node_id[0] == '\0' || addr[0] == '\0')
            continue;
        struct known_node *k = known_find(w, in->node_id, true);
        if (k != NULL)
            cb_strlcpy(k->address, addr, sizeof k->address);
    }
}

/* ---- node actions -------------------------------------------------------- */

static struct request *request_new(struct cb_world *w, const struct cb_core_action *a,
                                   cb_world_node_done_fn done, void *payload)
{
    struct request *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->w = w;
    r->kind = a->kind;
    r->done = done;
    r->payload = payload;
    r->started_ns = uv_hrtime();
    cb_strlcpy(r->node_id, a->node_id, sizeof r->node_id);
    r->next = w->requests;
    w->requests = r;
    return r;
}

/* Unlink and report (unless orphaned), then free. */
static void request_finish(struct request *r, enum cb_core_event_kind kind, enum cb_errcode code)
{
    struct cb_world *w = r->w;
    if (w != NULL) {
        for (struct request **pp = &w->requests; *pp != NULL; pp = &(*pp)->next)
            if (*pp == r) {
                *pp = r->next;
                break;
            }
        r->done(r->payload, r->node_id, r->kind, kind, code,
                (double)(uv_hrtime() - r->started_ns) / 1e9);
    }
    free(r);
}

static void on_bootstrap_result(void *payload, const struct cb_bootstrap_result *res)
{
    struct request *r = payload;
    bool ok = res->ok;
    enum cb_core_event_kind kind;

    switch (r->kind) {
    case CB_ACTION_BOOTSTRAP:
        kind = ok ? CB_EVENT_BOOTSTRAP_OK : CB_EVENT_BOOTSTRAP_FAILED;
        break;
    case CB_ACTION_CANCEL_DRAIN:
        kind = ok ? CB_EVENT_CANCEL_DRAIN_DONE : CB_EVENT_DRAIN_FAILED;
        break;
    default:
        kind = ok ? CB_EVENT_DRAIN_STARTED : CB_EVENT_DRAIN_FAILED;
    }
    if (r->w != NULL) {
        char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
        if (ok)
            cb_info("%s %s: done in %.1f s", cb_core_action_kind_name(r->kind), r->node_id,
                    res->seconds);
        else
            cb_warning("%s %s failed at %s (exit %d): %s%s%s", cb_core_action_kind_name(r->kind),
                       r->node_id, cb_bootstrap_step_name(res->step), res->exit_status,
                       cb_err_format(&res->err, msg, sizeof msg),
                       res->harvest_dir[0] ? "; logs in " : "", res->harvest_dir);
    }
    request_finish(r, kind, ok ? CB_OK : res->err.code);
}

struct drain_ctx {
    struct request *r;
    struct cb_world *w;                /* kept alive by outstanding */
};

static void on_drain_cmd(void *payload, int status, const struct cb_err *err)
{
    struct drain_ctx *d = payload;
    struct request *r = d->r;
    struct cb_world *w = d->w;
    enum cb_core_event_kind kind =
        status != 0 ? CB_EVENT_DRAIN_FAILED
                    : r->kind == CB_ACTION_CANCEL_DRAIN ? CB_EVENT_CANCEL_DRAIN_DONE
                                                        : CB_EVENT_DRAIN_STARTED;
    if (status != 0 && r->w != NULL) {
        char msg[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX + 8];
        cb_warning("%s %s failed: %s", cb_core_action_kind_name(r->kind), r->node_id,
                   cb_err_format(err, msg, sizeof msg));
    }
    request_finish(r, kind, status != 0 && err ? err->code : CB_OK);
    free(d);
    finish_outstanding(w);
}

bool cb_world_needs_console_keys(const struct cb_world *w)
{
    return w->bs != NULL && w->host_key_policy == CB_HOSTKEY_STRICT;
}

int cb_world_node_action(struct cb_world *w, const struct cb_config *cfg,
                         const struct cb_core_action *a, const char *host_keys,
                         cb_world_node_done_fn done, void *payload, struct cb_err *err)
{
    const struct cb_cloud *cloud = a->cloud < cfg->n_clouds ? &cfg->clouds[a->cloud] : NULL;
    if (cloud == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "world", "action on cloud %u", a->cloud);
    struct known_node *k = known_find(w, a->node_id, false);
    bool via_ssh = a->kind == CB_ACTION_BOOTSTRAP || w->drain_method == CB_DRAIN_SSH;

    if (via_ssh && w->bs == NULL)
        return cb_err_set(err, CB_ERR_INVALID, a->node_id,
                          "no SSH bootstrapper configured for %s", cb_core_action_kind_name(a->kind));
    if (!via_ssh) {
        if (k == NULL || k->machine[0] == '\0')
            return cb_err_set(err, CB_ERR_NOT_FOUND, a->node_id,
                              "the pool has not reported this node's startd: nothing to drain");
        struct request *r = request_new(w, a, done, payload);
        struct drain_ctx *d = calloc(1, sizeof *d);
        if (r == NULL || d == NULL) {
            if (r != NULL) {
                r->w = NULL;
                w->requests = r->next;
                free(r);
            }
            free(d);
            return cb_err_set(err, CB_ERR_INTERNAL, "world", "out of memory");
        }
        d->r = r;
        d->w = w;
        int rc = a->kind == CB_ACTION_CANCEL_DRAIN
                     ? cb_pool_drain_cancel(w->pool, w->loop, k->machine, on_drain_cmd, d, err)
                     : cb_pool_drain_start(w->pool, w->loop, k->machine, on_drain_cmd, d, err);
        if (rc != 0) {
            w->requests = r->next;
            free(r);
            free(d);
            return -1;
        }
        w->outstanding++;
        return 0;
    }

    const char *address = a->address[0] ? a->address : (k != NULL ? k->address : "");
    if (address[0] == '\0')
        return cb_err_set(err, CB_ERR_NOT_FOUND, a->node_id,
                          "no address known for this node (the cloud listing has none)");
    struct cb_bootstrap_target t = {
        .node_id = a->node_id,
        .address = address,
        .cloud = cloud->name,
        .provider = cloud->provider,
        .flavor = a->flavor < cloud->n_flavors ? cloud->flavors[a->flavor].name : "",
        .instance_id = a->instance_id,
        .host_keys = host_keys,
    };
    struct request *r = request_new(w, a, done, payload);
    if (r == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "world", "out of memory");
    int rc;
    if (a->kind == CB_ACTION_BOOTSTRAP)
        rc = cb_bootstrap_start(w->bs, w->loop, &t, on_bootstrap_result, r, err);
    else
        rc = cb_bootstrap_run_command(w->bs, w->loop, &t,
                                      a->kind == CB_ACTION_CANCEL_DRAIN ? "condor_on -startd"
                                                                        : "condor_off -peaceful -startd",
                                      on_bootstrap_result, r, err);
    if (rc != 0) {
        w->requests = r->next;
        free(r);
        return -1;
    }
    return 0;
}

/* ---- controller ad --------------------------------------------------------- */

struct advertise {
    uv_process_t proc;
    uv_timer_t timer;
    struct cb_world *w;
    char path[4096];
    int closing;
    int64_t exit_status;
    int term_signal;
    bool timed_out;
};

static void advertise_closed(uv_handle_t *h)
{
    struct advertise *a = h->data;
    if (--a->closing > 0)
        return;
    unlink(a->path);
    struct cb_world *w = a->w;
    free(a);
    finish_outstanding(w);
}

static void advertise_exit(uv_process_t *p, int64_t status, int term_signal)
{
    struct advertise *a = p->data;
    if (a->timed_out)
        cb_warning("condor_advertise timed out: the controller ad was not published this cycle");
    else if (status != 0 || term_signal != 0)
        cb_warning("condor_advertise failed (exit %lld, signal %d): the controller ad was not "
                   "published this cycle", (long long)status, term_signal);
    else
        cb_debug("controller ad published");
    a->closing = 2;
    uv_close((uv_handle_t *)&a->proc, advertise_closed);
    uv_close((uv_handle_t *)&a->timer, advertise_closed);
}

static void advertise_timeout(uv_timer_t *t)
{
    struct advertise *a = t->data;
    a->timed_out = true;
    uv_process_kill(&a->proc, SIGKILL);
}

/* ClassAd string literal: the values come from our own config (safe names),
 * but quote and escape anyway. */
static void ad_string(FILE *f, const char *attr, const char *value)
{
    fprintf(f, "%s = \"", attr);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\')
            fputc('\\', f);
        if ((unsigned char)*p >= 0x20)
            fputc(*p, f);
    }
    fputs("\"\n", f);
}

int cb_world_advertise(struct cb_world *w, const struct cb_config *cfg,
                       const struct cb_controller_ad *ad, struct cb_err *err)
{
    struct advertise *a = calloc(1, sizeof *a);
    if (a == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "advertise", "out of memory");
    snprintf(a->path, sizeof a->path, "%s/controller.ad.XXXXXX", cfg->controller.state_dir);
    int fd = mkstemp(a->path);
    if (fd < 0) {
        int e = errno;
        free(a);
        return cb_err_errno(err, CB_ERR_IO, e, cfg->controller.state_dir,
                            "cannot write the controller ad");
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        unlink(a->path);
        free(a);
        return cb_err_set(err, CB_ERR_INTERNAL, "advertise", "out of memory");
    }
    char name[256];
    controller_ad_name(cfg, name, sizeof name);
    ad_string(f, "MyType", "CloudburstController");
    ad_string(f, "Name", name);
    ad_string(f, "CloudburstPool", cfg->pool.name);
    ad_string(f, "CloudburstVersion", PACKAGE_VERSION);
    fprintf(f, "CloudburstHeartbeat = %lld\n", (long long)ad->heartbeat);
    fprintf(f, "CloudburstLease = %u\n", ad->lease);
    fprintf(f, "CloudburstNodesLive = %u\n", ad->nodes_live);
    fprintf(f, "CloudburstNodesBusy = %u\n", ad->nodes_busy);
    fprintf(f, "CloudburstNodesInFlight = %u\n", ad->nodes_in_flight);
    fprintf(f, "CloudburstIdleJobs = %llu\n", (unsigned long long)ad->idle_jobs);
    fprintf(f, "CloudburstPaused = %s\n", ad->paused ? "true" : "false");
    fprintf(f, "CloudburstDryRun = %s\n", ad->dry_run ? "true" : "false");
    fprintf(f, "CloudburstCostPerHour = %.4f\n", ad->cost_per_hour);
    if (fclose(f) != 0) {
        unlink(a->path);
        free(a);
        return cb_err_errno(err, CB_ERR_IO, errno, "advertise", "cannot write the controller ad");
    }

    const char *args[8];
    size_t n = 0;
    args[n++] = cfg->pool.condor_advertise;
    if (cfg->pool.collector != NULL && cfg->pool.collector[0] != '\0') {
        args[n++] = "-pool";
        args[n++] = cfg->pool.collector;
    }
    args[n++] = "UPDATE_AD_GENERIC";
    args[n++] = a->path;
    args[n] = NULL;
    uv_stdio_container_t stdio[3] = {
        { .flags = UV_IGNORE }, { .flags = UV_IGNORE }, { .flags = UV_INHERIT_FD, .data.fd = 2 },
    };
    uv_process_options_t po = {
        .file = args[0], .args = (char **)args, .stdio = stdio, .stdio_count = 3,
        .exit_cb = advertise_exit,
    };
    a->w = w;
    a->proc.data = a->timer.data = a;
    int rc = uv_spawn(w->loop, &a->proc, &po);
    if (rc != 0) {
        cb_err_set(err, CB_ERR_IO, cfg->pool.condor_advertise, "cannot run condor_advertise: %s",
                   uv_strerror(rc));
        /* libuv wants the process handle closed even after a failed spawn;
         * the close callback unlinks the file and frees. */
        a->closing = 1;
        w->outstanding++;
        uv_close((uv_handle_t *)&a->proc, advertise_closed);
        return -1;
    }
    uv_timer_init(w->loop, &a->timer);
    uv_timer_start(&a->timer, advertise_timeout, (uint64_t)cfg->pool.query_timeout * 1000u, 0);
    w->outstanding++;
    return 0;
}

/* ---- user-data ------------------------------------------------------------ */

int cb_world_user_data(struct cb_world *w, const struct cb_config *cfg,
                       const struct cb_core_action *a, char **out, size_t *out_len,
                       struct cb_err *err)
{
    *out = NULL;
    *out_len = 0;
    if (cfg->bootstrap.method != CB_BOOTSTRAP_CLOUD_INIT)
        return 0; /* contextualised over SSH after boot */
    /* One user-data document serves every instance of a boot call, and it
     * carries the node's identity: with cloud-init, boot one node per call. */
    if (a->count != 1)
        return cb_err_set(err, CB_ERR_INVALID, "bootstrap.method",
                          "cloud-init bootstrap needs one node per boot call (got %u): set the "
                          "cloud's max_boot_per_cycle = 1 or use bootstrap.method = \"ssh\"",
                          a->count);
    const struct cb_cloud *cloud = &cfg->clouds[a->cloud];
    char node_id[CB_NAME_MAX];
    snprintf(node_id, sizeof node_id, "%s-0", a->batch_id);
    struct cb_node_site site;
    site_from_config(cfg, w->controller_name, &site);
    /* The instance id is not known before the boot: the node reads it from
     * its metadata service when it starts; until then it advertises "". */
    struct cb_node_identity id = {
        .node_id = node_id,
        .cloud = cloud->name,
        .provider = cloud->provider,
        .flavor = cloud->flavors[a->flavor].name,
        .instance_id = "pending",
    };
    /* The bootstrap script (and the lease check) from script_dir go into the
     * user-data, so cloud-init installs what the SSH upload would. */
    return cb_userdata_cloud_config_dir(out, out_len, &site, &id, cfg->bootstrap.script_dir, err);
}
