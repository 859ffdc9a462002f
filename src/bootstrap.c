/* bootstrap: the bootstrapper object — options, key, script, known hosts, the
 * session queue — and the synchronous wrapper. The per-node state machine is
 * ssh_session.c; rendering is userdata.c. See bootstrap.h. */
#include "bootstrap.h"

#include "cb_text.h"
#include "secret.h"
#include "ssh_session.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTPUT_MAX_DEFAULT (64 * 1024)

struct cb_bootstrap {
    struct cb_bootstrap_options o;
    struct cb_bs_shared sh;
    struct cb_secret key;
    char *script;
    size_t script_len;
    char *lease_check;              /* NULL when the site has no lease */
    size_t lease_check_len;
    struct cb_known_hosts *kh;
    struct cb_bs_session *running;          /* singly linked */
    struct cb_bs_session *queue, **queue_tail;
    size_t n_running, n_queued;
    bool libssh2_ready;
};

static const char *const step_names[CB_BS__COUNT] = {
    [CB_BS_CONNECT] = "connect", [CB_BS_HANDSHAKE] = "handshake", [CB_BS_HOSTKEY] = "host-key",
    [CB_BS_AUTH] = "auth",       [CB_BS_STAGE] = "stage",         [CB_BS_UPLOAD] = "upload",
    [CB_BS_RUN] = "run",         [CB_BS_COMMAND] = "command",     [CB_BS_HARVEST] = "harvest",
    [CB_BS_DONE] = "done",
};

const char *cb_bootstrap_step_name(enum cb_bootstrap_step step)
{
    return (unsigned)step < CB_BS__COUNT ? step_names[step] : "?";
}

/* Whether an OpenSSH-format private key holds an RSA key: its base64 body
 * names the key type in clear near the start ("ssh-rsa" in the public part). */
static bool rsa_openssh_key(const struct cb_secret *key)
{
    const char *b = strstr(key->data, "-----\n");
    if (b == NULL)
        return false;
    /* "AAAAB3NzaC1yc2E" is base64 of "\0\0\0\7ssh-rsa" at the public key's start. */
    return strstr(b, "AAAAB3NzaC1yc2E") != NULL;
}

int cb_bootstrap_create(struct cb_bootstrap **out, const struct cb_bootstrap_options *opts,
                        struct cb_err *err)
{
    *out = NULL;
    struct cb_bootstrap *bs = calloc(1, sizeof *bs);
    if (bs == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "bootstrap", "out of memory");
    bs->o = *opts;
    bs->queue_tail = &bs->queue;
    const char *user = opts->user != NULL && opts->user[0] != '\0' ? opts->user : "root";
    if (!cb_is_safe_name(user)) {
        cb_err_set(err, CB_ERR_INVALID, "bootstrap.ssh.user", "not a valid user name");
        goto fail;
    }
    if (libssh2_init(0) != 0) {
        cb_err_set(err, CB_ERR_INTERNAL, "bootstrap", "libssh2_init failed");
        goto fail;
    }
    bs->libssh2_ready = true;
    if (opts->key_file == NULL || opts->key_file[0] == '\0') {
        cb_err_set(err, CB_ERR_INVALID, "bootstrap.ssh.key_file", "missing");
        goto fail;
    }
    if (cb_secret_read(&bs->key, opts->key_file, err) != 0 ||
        cb_userdata_check_site(&opts->site, err) != 0 ||
        cb_userdata_load_script(&bs->script, &bs->script_len, opts->script_dir, err) != 0 ||
        (opts->site.lease > 0 &&
         cb_userdata_load_node_file(&bs->lease_check, &bs->lease_check_len, opts->script_dir,
                                    CB_NODE_FILE_LEASE, err) != 0))
        goto fail;
    /* libssh2 before 1.11 signs RSA user keys with SHA-1 only ("ssh-rsa"),
     * which OpenSSH 8.8 and later (EL9, Debian 12 images) refuse by default. */
    if (libssh2_version(0x010b00) == NULL && opts->log != NULL &&
        (strstr(bs->key.data, "BEGIN RSA PRIVATE KEY") != NULL ||
         (strstr(bs->key.data, "BEGIN OPENSSH PRIVATE KEY") != NULL && rsa_openssh_key(&bs->key))))
        opts->log(opts->log_payload, CB_LOG_WARNING,
                  "bootstrap: %s is an RSA key and libssh2 %s can only sign with ssh-rsa "
                  "(SHA-1), which OpenSSH >= 8.8 refuses by default: use an ed25519 key",
                  opts->key_file, libssh2_version(0));
    if (opts->host_key_policy != CB_HOSTKEY_INSECURE &&
        cb_known_hosts_open(&bs->kh, opts->known_hosts_file, err) != 0)
        goto fail;
    if (opts->node_root != NULL && (opts->node_root[0] != '/' || strchr(opts->node_root, '\n'))) {
        cb_err_set(err, CB_ERR_INVALID, "node_root", "not an absolute path");
        goto fail;
    }
    bs->sh.o = &bs->o;
    bs->sh.user = user;
    bs->sh.key = bs->key.data;
    bs->sh.key_len = bs->key.len;
    bs->sh.kh = bs->kh;
    bs->sh.output_max = opts->output_max != 0 ? opts->output_max : OUTPUT_MAX_DEFAULT;
    *out = bs;
    return 0;
fail:
    cb_bootstrap_free(bs);
    return -1;
}

size_t cb_bootstrap_pending(const struct cb_bootstrap *bs)
{
    return bs->n_running + bs->n_queued;
}

static void session_done(void *owner, struct cb_bs_session *s)
{
    struct cb_bootstrap *bs = owner;
    for (struct cb_bs_session **pp = &bs->running; *pp != NULL; pp = cb_bs_session_next(*pp)) {
        if (*pp == s) {
            *pp = *cb_bs_session_next(s);
            bs->n_running--;
            break;
        }
    }
    /* Start what waits, up to the limit. */
    while (bs->queue != NULL && (bs->o.max_concurrent == 0 ||
                                 bs->n_running < bs->o.max_concurrent)) {
        struct cb_bs_session *q = bs->queue;
        bs->queue = *cb_bs_session_next(q);
        if (bs->queue == NULL)
            bs->queue_tail = &bs->queue;
        bs->n_queued--;
        *cb_bs_session_next(q) = bs->running;
        bs->running = q;
        bs->n_running++;
        cb_bs_session_start(q);
    }
}

static int submit(struct cb_bootstrap *bs, const struct cb_bs_request *req, struct cb_err *err)
{
    struct cb_bs_session *s = NULL;
    if (cb_bs_session_new(&s, &bs->sh, req, session_done, bs, err) != 0)
        return -1;
    if (bs->o.max_concurrent != 0 && bs->n_running >= bs->o.max_concurrent) {
        *cb_bs_session_next(s) = NULL;
        *bs->queue_tail = s;
        bs->queue_tail = cb_bs_session_next(s);
        bs->n_queued++;
        return 0;
    }
    *cb_bs_session_next(s) = bs->running;
    bs->running = s;
    bs->n_running++;
    cb_bs_session_start(s);
    return 0;
}

static int check_target(const struct cb_bootstrap_target *n, struct cb_err *err)
{
    if (n == NULL || n->node_id == NULL || !cb_is_safe_name(n->node_id) ||
        strlen(n->node_id) >= CB_NAME_MAX)
        return cb_err_set(err, CB_ERR_INVALID, "node", "missing or invalid node id");
    if (n->address == NULL || n->address[0] == '\0' || strlen(n->address) >= 64)
        return cb_err_set(err, CB_ERR_INVALID, n->node_id, "missing or invalid address");
    if (n->port > 65535)
        return cb_err_set(err, CB_ERR_INVALID, n->node_id, "port %u out of range", n->port);
    if (n->node_root != NULL && (n->node_root[0] != '/' || strlen(n->node_root) > 1024))
        return cb_err_set(err, CB_ERR_INVALID, n->node_id, "node_root is not an absolute path");
    if (n->host_keys != NULL && strlen(n->host_keys) > CB_HOSTKEY_TEXT_MAX)
        return cb_err_set(err, CB_ERR_INVALID, n->node_id, "host keys too long");
    return 0;
}

int cb_bootstrap_start(struct cb_bootstrap *bs, uv_loop_t *loop,
                       const struct cb_bootstrap_target *node, cb_bootstrap_cb cb,
                       void *payload, struct cb_err *err)
{
    if (check_target(node, err) != 0)
        return -1;
    struct cb_node_identity id = {
        .node_id = node->node_id, .cloud = node->cloud, .provider = node->provider,
        .flavor = node->flavor, .instance_id = node->instance_id,
    };
    struct cb_node_files files;
    if (cb_userdata_render(&files, &bs->o.site, &id, err) != 0)
        return -1;
    if (cb_node_files_add(&files, CB_NODE_FILE_SCRIPT, 0700, false, bs->script, bs->script_len,
                          err) != 0 ||
        (bs->lease_check != NULL &&
         cb_node_files_add(&files, CB_NODE_FILE_LEASE, 0700, false, bs->lease_check,
                           bs->lease_check_len, err) != 0)) {
        cb_node_files_free(&files);
        return -1;
    }
    /* Strict mode: normalise the console keys now, so bad input fails here. */
    char *keys = NULL;
    if (node->host_keys != NULL) {
        keys = malloc(CB_HOSTKEY_TEXT_MAX + 1);
        if (keys == NULL ||
            cb_ssh_host_keys_parse(node->host_keys, strlen(node->host_keys), keys,
                                   CB_HOSTKEY_TEXT_MAX + 1, err) < 0) {
            free(keys);
            cb_node_files_free(&files);
            return cb_err_set(err, CB_ERR_INTERNAL, node->node_id, "out of memory");
        }
    }
    struct cb_bootstrap_target t = *node;
    t.host_keys = keys;
    struct cb_bs_request req = {
        .loop = loop, .node = &t, .files = &files, .cb = cb, .payload = payload,
    };
    int rc = submit(bs, &req, err);
    free(keys);
    cb_node_files_free(&files);
    return rc;
}

int cb_bootstrap_run_command(struct cb_bootstrap *bs, uv_loop_t *loop,
                             const struct cb_bootstrap_target *node, const char *command,
                             cb_bootstrap_cb cb, void *payload, struct cb_err *err)
{
    if (check_target(node, err) != 0)
        return -1;
    if (command == NULL || command[0] == '\0' || strlen(command) > 4096)
        return cb_err_set(err, CB_ERR_INVALID, node->node_id, "missing or oversized command");
    for (const char *p = command; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20)
            return cb_err_set(err, CB_ERR_INVALID, node->node_id,
                              "command contains a control character");
    struct cb_bootstrap_target t = *node;
    t.host_keys = NULL;
    char *keys = NULL;
    if (node->host_keys != NULL) {
        keys = malloc(CB_HOSTKEY_TEXT_MAX + 1);
        if (keys == NULL || cb_ssh_host_keys_parse(node->host_keys, strlen(node->host_keys),
                                                   keys, CB_HOSTKEY_TEXT_MAX + 1, err) < 0) {
            free(keys);
            return cb_err_set(err, CB_ERR_INTERNAL, node->node_id, "out of memory");
        }
        t.host_keys = keys;
    }
    struct cb_bs_request req = {
        .loop = loop, .node = &t, .command = command, .cb = cb, .payload = payload,
    };
    int rc = submit(bs, &req, err);
    free(keys);
    return rc;
}

void cb_bootstrap_cancel_all(struct cb_bootstrap *bs)
{
    /* Detach the queue first: a cancelled session's done() must not start it. */
    struct cb_bs_session *q = bs->queue;
    bs->queue = NULL;
    bs->queue_tail = &bs->queue;
    bs->n_queued = 0;
    while (q != NULL) {
        struct cb_bs_session *next = *cb_bs_session_next(q);
        *cb_bs_session_next(q) = NULL;
        cb_bs_session_cancel(q); /* reports and frees */
        q = next;
    }
    while (bs->running != NULL)
        cb_bs_session_cancel(bs->running); /* done() unlinks it */
}

void cb_bootstrap_free(struct cb_bootstrap *bs)
{
    if (bs == NULL)
        return;
    cb_bootstrap_cancel_all(bs);
    cb_known_hosts_free(bs->kh);
    cb_secret_wipe(&bs->key);
    free(bs->script);
    free(bs->lease_check);
    if (bs->libssh2_ready)
        libssh2_exit();
    free(bs);
}

/* ---- reports and the synchronous wrapper ------------------------------- */

void cb_bootstrap_report_clear(struct cb_bootstrap_report *rep)
{
    free(rep->out_copy);
    free(rep->errout_copy);
    memset(rep, 0, sizeof *rep);
}

void cb_bootstrap_report_copy(struct cb_bootstrap_report *rep,
                              const struct cb_bootstrap_result *r)
{
    cb_bootstrap_report_clear(rep);
    rep->r = *r;
    rep->out_copy = cb_strdup(r->out != NULL ? r->out : "");
    rep->errout_copy = cb_strdup(r->errout != NULL ? r->errout : "");
    rep->r.out = rep->out_copy != NULL ? rep->out_copy : "";
    rep->r.errout = rep->errout_copy != NULL ? rep->errout_copy : "";
    rep->r.node_id = NULL; /* points into the session, which is gone */
}

struct sync_state {
    struct cb_bootstrap_report *rep;
    bool done;
};

static void sync_cb(void *payload, const struct cb_bootstrap_result *r)
{
    struct sync_state *st = payload;
    cb_bootstrap_report_copy(st->rep, r);
    st->done = true;
}

int cb_bootstrap_run_sync(struct cb_bootstrap *bs, const struct cb_bootstrap_target *node,
                          const char *command, struct cb_bootstrap_report *rep,
                          struct cb_err *err)
{
    memset(rep, 0, sizeof *rep);
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0)
        return cb_err_set(err, CB_ERR_INTERNAL, "bootstrap", "cannot create a loop");
    struct sync_state st = { .rep = rep, .done = false };
    int rc = command != NULL
                 ? cb_bootstrap_run_command(bs, &loop, node, command, sync_cb, &st, err)
                 : cb_bootstrap_start(bs, &loop, node, sync_cb, &st, err);
    if (rc == 0) {
        while (!st.done && uv_run(&loop, UV_RUN_ONCE) != 0)
            ;
        uv_run(&loop, UV_RUN_DEFAULT); /* let the session close its handles */
        if (!st.done)
            rc = cb_err_set(err, CB_ERR_INTERNAL, "bootstrap", "session ended without a result");
        else if (!rep->r.ok) {
            if (err != NULL && !cb_err_isset(err))
                *err = rep->r.err;
            rc = -1;
        }
    }
    uv_loop_close(&loop);
    return rc;
}
