/* bootstrap: turn a booted VM into a verified execute node over SSH, and run
 * commands on nodes (the drain path, checks).
 *
 * Model: every node is one non-blocking libssh2 session, a state machine on
 * the caller's libuv loop (uv_poll on the session socket for the directions
 * libssh2 asks for, one uv_timer for the step deadline or the reconnect
 * backoff). No thread per node, nothing blocks the loop, so one dead VM
 * delays nobody else. At most max_concurrent sessions run; later requests
 * wait in a queue in arrival order.
 *
 * A bootstrap runs these steps, each reported by name on failure:
 *   connect    TCP connect, retried with backoff until wait_timeout (the VM
 *              may still be booting); each attempt bounded by connect_timeout
 *   handshake  SSH handshake (a failure here is also retried: sshd may be
 *              starting)
 *   host-key   verified per policy: strict (known from the known-hosts file
 *              or from the driver's console host keys, which then go into the
 *              known-hosts file, so later commands need no console), accept-new (the first
 *              key seen for a node id is recorded in the known-hosts file, any
 *              later change is refused), insecure (accepted, warning each time)
 *   auth       public key (ed25519 or RSA, no passphrase) from a file that
 *              grants group/others nothing (cb_secret_read)
 *   stage      an SFTP session and a private (0700) staging directory,
 *              <node_root>/tmp/cloudburst.<random> (ssh_sftp.c)
 *   upload     the rendered files (userdata.h) and the node scripts, all
 *              over that one SFTP session
 *   run        the script (through sudo -n when configured), output captured
 *              (capped, sanitised) with its exit status; it verifies the node
 *   harvest    only after a failure: /var/log/condor, cloud-init and CVMFS
 *              logs are fetched as <state_dir>/nodes/<node_id>/logs.tar.gz,
 *              next to bootstrap.log (output and error)
 * A command (cb_bootstrap_run_command) runs connect..auth, then "command".
 *
 * Ownership: options' strings (and site's) are borrowed and must outlive the
 * bootstrapper (the daemon rebuilds it when the configuration changes). The
 * key file and the node scripts (cloudburst-bootstrap.sh, and
 * cloudburst-lease-check when site.lease > 0) are read from script_dir at
 * create; the key is wiped on free.
 * Targets are copied at start. A result is valid only during its callback.
 * Secrets (key, token) are never logged.
 *
 * Threads: everything runs on the loop thread that calls the functions.
 */
#ifndef CB_BOOTSTRAP_H
#define CB_BOOTSTRAP_H

#include "cb_error.h"
#include "config.h"
#include "log.h"
#include "userdata.h"

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

enum cb_bootstrap_step {
    CB_BS_CONNECT = 0,
    CB_BS_HANDSHAKE,
    CB_BS_HOSTKEY,
    CB_BS_AUTH,
    CB_BS_STAGE,
    CB_BS_UPLOAD,
    CB_BS_RUN,
    CB_BS_COMMAND,
    CB_BS_HARVEST,
    CB_BS_DONE,
    CB_BS__COUNT
};

/* "connect", "handshake", "host-key", ... */
const char *cb_bootstrap_step_name(enum cb_bootstrap_step step);

struct cb_bootstrap_options {
    const char *user;               /* login user; NULL = "root" */
    const char *key_file;           /* private key, absolute; 0600/0400 */
    unsigned port;                  /* used when a target's port is 0; 0 = 22 */
    enum cb_host_key_policy host_key_policy;
    const char *known_hosts_file;   /* absolute; required unless insecure */
    unsigned connect_timeout;       /* s per connection attempt; 0 = 30 */
    unsigned wait_timeout;          /* s to wait for SSH to come up; 0 = connect_timeout */
    unsigned step_timeout;          /* s per step after login; 0 = 600 */
    bool sudo;                      /* run the script and harvest through sudo -n */
    const char *script_dir;         /* holds cloudburst-bootstrap.sh */
    enum cb_failure_action failure_action; /* echoed into failed results */
    unsigned quarantine_time;       /* echoed into failed results */
    const char *state_dir;          /* harvest under <state_dir>/nodes/<node_id>/ */
    unsigned max_concurrent;        /* sessions at once; 0 = unlimited */
    size_t output_max;              /* bytes of output kept per stream; 0 = 64 KiB */
    const char *node_root;          /* CB_ROOT given to the script: a root prefix on
                                     * the node (tests, image builds); NULL = / */
    struct cb_node_site site;       /* what the node files are rendered from */
    cb_log_fn log;                  /* NULL = silent */
    void *log_payload;
};

/* One node. Strings are copied at start. */
struct cb_bootstrap_target {
    const char *node_id;            /* CloudburstNodeId; also the known-hosts name */
    const char *address;            /* numeric IPv4 or IPv6 */
    unsigned port;                  /* 0 = options' port */
    const char *cloud, *provider, *flavor, *instance_id;
    const char *host_keys;          /* strict mode: what the driver read from the
                                     * console (provider host_keys(): "type
                                     * base64" lines), or known_hosts lines, or
                                     * "SHA256:..." fingerprints; NULL = none.
                                     * A key that matches is recorded in the
                                     * known-hosts file under node_id. */
    const char *node_root;          /* overrides options' node_root; NULL = use it */
};

struct cb_bootstrap_result {
    const char *node_id;
    bool ok;
    enum cb_bootstrap_step step;    /* failed step, or CB_BS_DONE */
    struct cb_err err;              /* origin "<node_id>:<step>" */
    int exit_status;                /* of the script or command; -1 = not known */
    const char *out;                /* stdout, sanitised, capped ("" if none) */
    const char *errout;             /* stderr, sanitised, capped */
    bool out_truncated;
    unsigned attempts;              /* connection attempts */
    double seconds;                 /* from start to the result */
    char host_key[64];              /* "SHA256:..." of the key seen, "" before */
    /* Failures of a bootstrap (not of a command): */
    enum cb_failure_action failure_action;
    unsigned quarantine_time;
    char harvest_dir[512];          /* "" when nothing was harvested */
};

typedef void (*cb_bootstrap_cb)(void *payload, const struct cb_bootstrap_result *result);

struct cb_bootstrap;

/* Validate options (site inputs included), read the key and the script,
 * load the known-hosts file. Returns 0 and *out, or -1 with err. */
int cb_bootstrap_create(struct cb_bootstrap **out, const struct cb_bootstrap_options *opts,
                        struct cb_err *err);

/* Free; sessions still running are cancelled first and their handles closed:
 * run the loop once more (uv_run(loop, UV_RUN_NOWAIT)) before closing it.
 * NULL is fine. */
void cb_bootstrap_free(struct cb_bootstrap *bs);

/* Bootstrap `node` on `loop`; `cb` is called exactly once, later, from the
 * loop (never from inside this call). Returns -1 only for invalid targets. */
int cb_bootstrap_start(struct cb_bootstrap *bs, uv_loop_t *loop,
                       const struct cb_bootstrap_target *node, cb_bootstrap_cb cb,
                       void *payload, struct cb_err *err);

/* Run `command` (a shell command line, through sudo -n when configured) on
 * `node`; same callback contract. Used for `condor_off -peaceful -startd`. */
int cb_bootstrap_run_command(struct cb_bootstrap *bs, uv_loop_t *loop,
                             const struct cb_bootstrap_target *node, const char *command,
                             cb_bootstrap_cb cb, void *payload, struct cb_err *err);

/* Cancel every session and queued request: each callback fires with a
 * "cancelled" error. */
void cb_bootstrap_cancel_all(struct cb_bootstrap *bs);

/* Sessions running plus queued. */
size_t cb_bootstrap_pending(const struct cb_bootstrap *bs);

/* A result copied out of a callback (owned strings). */
struct cb_bootstrap_report {
    struct cb_bootstrap_result r;   /* r.out / r.errout point into the owned copies */
    char *out_copy, *errout_copy;
};
void cb_bootstrap_report_clear(struct cb_bootstrap_report *rep);
void cb_bootstrap_report_copy(struct cb_bootstrap_report *rep,
                              const struct cb_bootstrap_result *r);

/* Synchronous wrappers for tools and tests: run on a private loop until the
 * result. command NULL = bootstrap. Returns 0 when rep->r.ok, else -1 with
 * err = rep->r.err. Free rep with cb_bootstrap_report_clear(). */
int cb_bootstrap_run_sync(struct cb_bootstrap *bs, const struct cb_bootstrap_target *node,
                          const char *command, struct cb_bootstrap_report *rep,
                          struct cb_err *err);

/* Host keys (ssh_hostkey.c) -------------------------------------------- */

#define CB_HOSTKEY_LINE_MAX 16384   /* one "type base64" line */
#define CB_HOSTKEY_TEXT_MAX 65536   /* console text handed in */
#define CB_HOSTKEY_MAX_KEYS 16

/* Parse console output holding OpenSSH public key lines ("ssh-ed25519 AAAA...
 * [comment]", e.g. between cloud-init's BEGIN/END SSH HOST KEY KEYS markers,
 * or known_hosts lines "name ssh-ed25519 AAAA..."), or SHA-256 fingerprints
 * as ssh-keygen -l prints them ("256 SHA256:<43 base64> root@vm (ED25519)",
 * cloud-init's BEGIN/END SSH HOST KEY FINGERPRINTS block); other lines, and
 * words that do not decode to a public key of the named type, are skipped.
 * Writes normalised "type base64\n" and "SHA256:<b64>\n" lines into
 * out[size]. Returns the number of keys and fingerprints
 * (0..CB_HOSTKEY_MAX_KEYS), or -1 with err for oversized input, an oversized
 * key or more than CB_HOSTKEY_MAX_KEYS entries. */
int cb_ssh_host_keys_parse(const char *text, size_t len, char *out, size_t size,
                           struct cb_err *err);

#endif
