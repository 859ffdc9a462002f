/* provider: the versioned plugin interface every cloud driver implements.
 *
 * A driver is providers/<name>/<name>.la, built -module -avoid-version and
 * installed in $(pkglibdir)/providers. It exports exactly one symbol,
 *
 *     const struct cb_provider_ops cb_provider_ops_v1 = { .abi_version = ..., ... };
 *
 * and keeps everything else static. The loader (provider_loader.h) checks
 * abi_version (accepted: CB_PROVIDER_ABI_MIN..CB_PROVIDER_ABI_VERSION) and the
 * name before calling anything. Optional entries may be NULL; only the loader's
 * dispatch functions look at them and supply the fallback.
 *
 * Contract (written down, as Slurm does for its plugins):
 * - A driver TRANSLATES; it never decides. No policy, no retries beyond what
 *   one logical call needs (throttling backoff inside one call is allowed,
 *   bounded by the call's deadline), no reading of globals, no exit().
 * - Calls are BLOCKING and run on a worker thread that belongs to that cloud
 *   alone; they must respect the timeouts in cb_provider_init and return by
 *   the deadline. Different clouds never share a driver state.
 * - Every error is classified (cb_error.h): auth, quota (capacity: the core
 *   tries another flavor or cloud), throttled, not_found, transient, timeout,
 *   permanent, invalid (malformed response). Outside text is sanitised.
 * - Tags: each instance carries cloudburst-pool=<pool> and
 *   cloudburst-batch=<batch_id>. One boot call starts up to K instances that
 *   share those tags (a batch API applies the same tags to all), so a node's
 *   id is "<batch_id>-<index>" with index 0..K-1 taken from the provider's
 *   launch index (EC2 amiLaunchIndex; Nova's "-N" multi-create name suffix,
 *   minus one; the name itself where the driver boots one at a time). A
 *   driver that can tag per instance also sets cloudburst-node=<node id>.
 * - Idempotency: booting twice with the same batch_id must not start a second
 *   set of instances (EC2 ClientToken; elsewhere the driver lists by batch tag
 *   or name before booting).
 */
#ifndef CB_PROVIDER_H
#define CB_PROVIDER_H

#include "cb_error.h"
#include "core/observe.h"
#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CB_PROVIDER_ABI_VERSION 1
#define CB_PROVIDER_ABI_MIN 1
#define CB_PROVIDER_SYMBOL "cb_provider_ops_v1"

#define CB_TAG_POOL "cloudburst-pool"
#define CB_TAG_BATCH "cloudburst-batch"
#define CB_TAG_NODE "cloudburst-node"

/* Capability bits. */
#define CB_PROVIDER_CAP_BATCH_BOOT (1u << 0)   /* one call boots K instances */
#define CB_PROVIDER_CAP_CLIENT_TOKEN (1u << 1) /* the API itself dedups boots by token */
#define CB_PROVIDER_CAP_SPOT (1u << 2)         /* spot / preemptible instances */
#define CB_PROVIDER_CAP_SHUTDOWN_TERMINATES (1u << 3) /* a guest poweroff ends the instance */
#define CB_PROVIDER_CAP_CONSOLE_HOST_KEYS (1u << 4)   /* host_keys() is implemented */

/* ---- settings: each driver declares its own, the config loader checks them ---- */

enum cb_setting_type {
    CB_SETTING_STRING = 0,
    CB_SETTING_INT,
    CB_SETTING_BOOL,
    CB_SETTING_STRING_LIST,
    CB_SETTING_SECRET_FILE, /* path to a file (mode 0600/0400); its content is the secret */
};

/* One setting a driver accepts in its "<provider> = { ... }" group of a cloud. */
struct cb_setting_spec {
    const char *name;
    enum cb_setting_type type;
    bool required;
    const char *default_value; /* text form, NULL = no default */
    long long min, max;        /* range for INT (ignored when min > max) */
    const char *doc;           /* one line for cloudburst.conf(5) and --check-config */
};

/* A setting's value, after the loader validated type and range. */
struct cb_setting {
    const char *name;
    enum cb_setting_type type;
    const char *str;             /* STRING; path for SECRET_FILE */
    long long num;               /* INT */
    bool boolean;                /* BOOL */
    const char *const *list;     /* STRING_LIST */
    size_t list_len;
    const char *secret;          /* SECRET_FILE: file content, trailing newline removed */
    size_t secret_len;
    bool is_default;             /* not in the file; default applied */
    int line;                    /* line in the config file, 0 if defaulted */
};

struct cb_settings {
    const struct cb_setting *items;
    size_t n;
    const char *file;            /* config file name, for error origins */
    const char *path;            /* setting path prefix, e.g. "clouds.[0].ec2" */
};

/* Lookup helpers (NULL / fallback when absent). Shared by all drivers. */
const struct cb_setting *cb_settings_find(const struct cb_settings *s, const char *name);
const char *cb_settings_str(const struct cb_settings *s, const char *name, const char *fallback);
long long cb_settings_int(const struct cb_settings *s, const char *name, long long fallback);
bool cb_settings_bool(const struct cb_settings *s, const char *name, bool fallback);

/* ---- calls ---------------------------------------------------------------- */

struct cb_provider_init {
    int version;                 /* CB_PROVIDER_ABI_VERSION of the caller */
    const char *cloud_name;      /* the cloud's name in the config */
    const char *pool_name;       /* value of the cloudburst-pool tag */
    const struct cb_settings *settings; /* valid until fini */
    unsigned connect_timeout_ms; /* per HTTP connection */
    unsigned call_timeout_ms;    /* whole logical call, retries included */
    cb_log_fn log;               /* never NULL */
    void *log_payload;
};

struct cb_boot_spec {
    const char *batch_id;        /* idempotency token, [a-z0-9-], <= 48 chars */
    unsigned count;              /* K >= 1: boot up to K (fewer if capacity allows only fewer) */
    const char *flavor;          /* provider's instance type / flavor name */
    const char *image;           /* provider's image id or name */
    const char *user_data;       /* NULL or raw bytes (the driver encodes as its API needs) */
    size_t user_data_len;
    bool spot;                   /* ask for spot/preemptible capacity */
    bool terminate_on_shutdown;  /* guest poweroff ends (not stops) the instance */
};

struct cb_provider_ops {
    /* identity */
    int abi_version;             /* CB_PROVIDER_ABI_VERSION the driver was built for */
    const char *name;            /* "ec2": must equal the folder and config provider name */
    const char *description;
    /* capabilities */
    unsigned caps;
    const struct cb_setting_spec *settings; /* terminated by an entry with name == NULL */

    /* Create the driver state for one cloud. On failure returns -1, *out NULL. */
    int (*init)(void **out, const struct cb_provider_init *args, struct cb_err *err);

    /* Boot up to spec->count instances. Appends what the cloud accepted to
     * *out (state usually pending). Returns 0 if at least one instance was
     * accepted, -1 with err otherwise. Repeating a call with the same batch_id
     * returns the same instances instead of booting new ones. A partial batch
     * (fewer than count accepted) may also fill err with why: 0 is returned. */
    int (*boot)(void *state, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                struct cb_err *err);

    /* List every instance tagged cloudburst-pool=<pool_name> (all pages),
     * terminated ones included while the cloud still shows them. */
    int (*list)(void *state, struct cb_instance_list *out, struct cb_err *err);

    /* Terminate instances by provider id. An id the cloud does not know is
     * already gone: success. Returns -1 only if some instance may still run;
     * failed[i] (if not NULL, n entries) tells which. */
    int (*terminate)(void *state, const char *const *ids, size_t n, bool *failed,
                     struct cb_err *err);

    /* Optional: SSH host public keys the instance printed to its console
     * (OpenSSH "type base64" lines, one per line, into buf). NULL if unsupported. */
    int (*host_keys)(void *state, const char *instance_id, char *buf, size_t len,
                     struct cb_err *err);

    void (*fini)(void *state);
};

#endif
