/* config: cloudburst.conf (libconfig syntax) loaded into one validated struct.
 *
 * Promises:
 * - cb_config_load() either returns a complete, validated configuration with
 *   every default filled in, or fails with an error whose origin is
 *   "<file>:<line>" and whose message names the setting path
 *   ("clouds.[1].flavors.[0].cpus"). Checked at load: syntax, wrong type,
 *   out-of-range value, missing required setting, unknown setting (typos are
 *   the commonest admin error), duplicate cloud or flavor names, a provider
 *   that cannot be loaded, and each provider's own settings (provider.h).
 * - Secrets only come from *_file settings. A secret file readable or writable
 *   by group or others is refused with its path and mode. Secret contents live
 *   only in the config's memory and are wiped by cb_config_free().
 * - The struct is immutable after load: SIGHUP builds a new one and swaps it.
 *
 * The schema lives in one table (config_schema.c); cloudburst.conf(5)
 * documents exactly that table (tests/test_config compares the two) and
 * cb_config_print() walks it to show the effective values (secrets redacted).
 * Secret files are read only by secret.c. The loader is thread-safe (no global
 * state); a loaded config is read-only and may be shared between threads.
 *
 * Units: durations in seconds, memory in MiB, disk in GiB (flavors), money
 * in the site's currency per hour / per month.
 */
#ifndef CB_CONFIG_H
#define CB_CONFIG_H

#include "cb_error.h"
#include "core/observe.h"
#include "log.h"
#include "provider.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define CB_DEFAULT_CONFIG_FILE CB_SYSCONFDIR "/cloudburst/cloudburst.conf"

enum cb_drain_method { CB_DRAIN_SSH = 0, CB_DRAIN_CONDOR_DRAIN };
enum cb_cloud_mode { CB_MODE_EXCLUSIVE = 0, CB_MODE_TRANSPARENT };
enum cb_bootstrap_method { CB_BOOTSTRAP_SSH = 0, CB_BOOTSTRAP_CLOUD_INIT };
enum cb_host_key_policy { CB_HOSTKEY_STRICT = 0, CB_HOSTKEY_ACCEPT_NEW, CB_HOSTKEY_INSECURE };
enum cb_failure_action { CB_FAILURE_QUARANTINE = 0, CB_FAILURE_TERMINATE };
enum cb_billing { CB_BILLING_PER_SECOND = 0, CB_BILLING_PER_HOUR };

struct cb_string_list {
    char **items;
    size_t n;
};

struct cb_flavor {
    char name[CB_NAME_MAX];     /* the provider's instance type / flavor name */
    uint32_t cpus;
    uint64_t memory_mb;
    uint64_t disk_gb;
    double cost_per_hour;
    int line;
};

struct cb_cloud {
    unsigned index;             /* position in clouds, = bit in cb_cloud_mask */
    char name[CB_NAME_MAX];
    char provider[CB_NAME_MAX];
    bool enabled;
    int priority;               /* lower is tried first; ties broken by cost */
    char *eligibility;          /* ClassAd expression over the job; default pool.eligibility */
    char *image;
    uint32_t max_nodes;
    uint32_t max_cores;         /* 0 = unlimited */
    uint32_t max_in_flight;     /* nodes requested/booting/bootstrapping at once */
    uint32_t max_boot_per_cycle;
    double budget_per_hour;     /* 0 = no cap */
    double budget_per_month;    /* 0 = no cap */
    bool spot;
    enum cb_billing billing;
    bool terminate_on_shutdown; /* ask for instances a guest poweroff ends (lease expiry) */
    struct cb_flavor *flavors;
    size_t n_flavors;
    struct cb_settings settings;/* provider-specific, validated against the driver's spec */
    int line;
};

struct cb_config {
    char *file;                 /* the file it came from */

    struct {
        char *name;             /* pool name: the cloudburst-pool tag */
        char *central_manager;  /* CONDOR_HOST the nodes join */
        char *collector;        /* -pool argument for queries; "" = local config */
        struct cb_string_list schedds; /* empty = condor_q -global */
        char *condor_q, *condor_status, *condor_drain, *condor_advertise; /* tool paths */
        char *condor_off;       /* condor_off on the nodes (drain_method ssh) */
        unsigned query_timeout;
        char *cloud_attribute;  /* IsCloudNode */
        char *eligibility;      /* default per-cloud eligibility: WantCloudNode =?= True */
        char *runtime_attribute;/* "" = MaxWallTime, RequestRuntime, JobDurationEstimate */
        enum cb_cloud_mode mode;
        enum cb_drain_method drain_method;
        struct cb_string_list drain_args; /* extra arguments for condor_drain */
    } pool;

    struct {
        unsigned cycle_interval;
        unsigned reconcile_every;   /* cycles */
        bool dry_run;
        char *provider_dir;
        char *state_dir;
        unsigned call_timeout;      /* cloud API call deadline */
        unsigned connect_timeout;
        unsigned listing_wait;      /* longest wait for listings after the pool's answer */
        /* policy */
        double ramp_fraction;       /* share of the gap requested per cycle */
        unsigned ramp_floor;        /* nodes requested per cycle at least (if gap > 0) */
        unsigned idle_timeout;      /* 0 = learned from boot-to-join latency */
        unsigned idle_timeout_min, idle_timeout_max;
        unsigned idle_timeout_prior;    /* learned idle timeout before any latency sample */
        double idle_learn_factor;       /* idle timeout = factor x median boot-to-join latency */
        unsigned billing_margin;        /* per-hour billing: drain only this close to the hour */
        unsigned lost_timeout;          /* joined node missing from the pool this long: terminate */
        unsigned listing_grace;         /* young boots are not "gone" for missing from a listing */
        unsigned quota_backoff;         /* skip a (cloud, flavor) this long after a quota error */
        unsigned throttle_backoff;      /* no boots on a throttled cloud this long */
        unsigned drain_timeout;
        unsigned boot_timeout, join_timeout;
        unsigned max_lifetime;      /* 0 = none */
        unsigned breaker_failures;  /* consecutive failures that open the breaker */
        unsigned breaker_backoff_min, breaker_backoff_max, breaker_reset_after;
        double budget_per_hour, budget_per_month; /* global caps, 0 = none */
        unsigned lease;             /* node-side heartbeat lease */
    } controller;

    struct {
        enum cb_bootstrap_method method;
        enum cb_failure_action failure_action;
        unsigned quarantine_time;
        char *script_dir;
        unsigned max_concurrent;    /* bootstrap sessions in progress at once */
        struct {
            char *user;
            char *key_file;         /* private key path (permission-checked) */
            char *key;              /* its content, wiped on free (NULL with CB_CONFIG_SKIP_SECRETS) */
            size_t key_len;
            unsigned port;
            enum cb_host_key_policy host_key_policy;
            char *known_hosts_file;
            unsigned connect_timeout, step_timeout;
            bool sudo;
        } ssh;
        struct {
            struct cb_string_list repositories;
            char *http_proxy;
            unsigned quota_limit_mb;
            char *cache_base;
            char *cms_local_site;
            char *repo_url;         /* where to fetch cvmfs when the image lacks it */
        } cvmfs;
        struct {
            char *token_file;       /* IDTOKEN (secret) */
            char *token;            /* its content, wiped on free (NULL with CB_CONFIG_SKIP_SECRETS) */
            size_t token_len;
            bool ccb;
            char *private_network_name;
            struct cb_string_list extra_config;
            char *repo_url;
        } condor;
    } bootstrap;

    struct cb_cloud *clouds;
    size_t n_clouds;

    struct {
        char *path;
        unsigned busy_timeout_ms;
    } ledger;

    struct {
        enum cb_log_level level;
        enum cb_log_target target;
        char *facility;
    } log;

    struct {
        char *listen;               /* "host:port", "" = off */
        char *textfile;             /* node_exporter textfile, "" = off */
    } metrics;
};

/* Limits enforced at load (bad input is an error, never truncated). */
#define CB_CONFIG_FILE_MAX (1024 * 1024) /* bytes of cloudburst.conf */
#define CB_CONFIG_MAX_FLAVORS 64         /* per cloud */
#define CB_CONFIG_LIST_MAX 256           /* items of any string list */
#define CB_CONFIG_STRING_MAX 4096        /* bytes of any string value */

/* Flags for cb_config_load_flags(). */
enum {
    /* Do not dlopen provider drivers: each cloud's "<provider> = { ... }" group
     * must still be a group, but its keys are not checked and
     * cb_cloud.settings stays empty. For tools that never call a cloud
     * (cloudburstctl) and for fuzzing. */
    CB_CONFIG_SKIP_PROVIDERS = 1u << 0,
    /* Do not open secret files: their paths are still checked (absolute), the
     * contents (token, key, SECRET_FILE settings) stay NULL. */
    CB_CONFIG_SKIP_SECRETS = 1u << 1,
};

/* Load and validate `path` (NULL: CB_DEFAULT_CONFIG_FILE). provider_dir_override (may be NULL) replaces
 * controller.provider_dir, for tests running from a build tree. On success
 * returns 0 and *out (free with cb_config_free). On failure returns -1, *out
 * is NULL, err says where and what. */
int cb_config_load(struct cb_config **out, const char *path, const char *provider_dir_override,
                   struct cb_err *err);

/* cb_config_load() with flags (0 = everything checked, as cb_config_load). */
int cb_config_load_flags(struct cb_config **out, const char *path,
                         const char *provider_dir_override, unsigned flags, struct cb_err *err);

/* Same, from text in memory (len bytes, need not be NUL-terminated); `name`
 * stands for the file in error origins and cfg->file. For tests and fuzzing. */
int cb_config_load_text(struct cb_config **out, const char *name, const char *text, size_t len,
                        const char *provider_dir_override, unsigned flags, struct cb_err *err);

/* Wipes secrets, frees everything. NULL is fine. */
void cb_config_free(struct cb_config *cfg);

/* Print the effective configuration in libconfig syntax, defaults filled in
 * and secrets shown as "<redacted>". The output loads back to the same config. */
int cb_config_print(const struct cb_config *cfg, FILE *out);

/* Find a cloud by name (NULL if none). */
const struct cb_cloud *cb_config_cloud(const struct cb_config *cfg, const char *name);

#endif
