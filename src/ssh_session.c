/* ssh_session: the per-node state machine of the bootstrapper.
 *
 * drive() runs the current step until libssh2 (or connect) would block, then
 * arms a uv_poll for the directions libssh2 asks for and returns; the poll
 * or the timer calls drive() again. One uv_timer serves as the step
 * deadline and, while waiting for SSH to come up, as the reconnect backoff.
 * Channels are ssh_channel.c, the steps after login ssh_steps.c.
 */
#include "ssh_session_int.h"

#include "cb_text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void drive(struct cb_bs_session *s);
static void timer_arm(struct cb_bs_session *s, uint64_t ms, bool backoff);
static void finish(struct cb_bs_session *s);
static int connect_retry(struct cb_bs_session *s);

/* ---- small helpers ----------------------------------------------------- */

void bs_slog(struct cb_bs_session *s, enum cb_log_level lvl, const char *fmt, ...)
{
    if (s->sh->o->log == NULL)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    s->sh->o->log(s->sh->o->log_payload, lvl, "bootstrap %s: %s", s->node_id, msg);
}

int bs_failf(struct cb_bs_session *s, enum cb_errcode code, const char *fmt, ...)
{
    char origin[CB_ERR_ORIGIN_MAX];
    snprintf(origin, sizeof origin, "%s:%s", s->node_id, cb_bootstrap_step_name(s->step));
    if (!cb_err_isset(&s->err)) {
        va_list ap;
        va_start(ap, fmt);
        cb_err_setv(&s->err, code, origin, fmt, ap);
        va_end(ap);
        s->failed_step = s->step;
    }
    return RC_FAIL;
}

/* A libssh2 failure: socket-level errors mark the connection broken. */
int bs_ssh_fail(struct cb_bs_session *s, int rc, const char *what)
{
    char *msg = NULL;
    libssh2_session_last_error(s->ssh, &msg, NULL, 0);
    if (rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV ||
        rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_NONE ||
        rc == LIBSSH2_ERROR_SOCKET_TIMEOUT || rc == LIBSSH2_ERROR_CHANNEL_CLOSED ||
        rc == LIBSSH2_ERROR_CHANNEL_EOF_SENT)
        s->broken = true;
    return bs_failf(s, s->broken ? CB_ERR_TRANSIENT : CB_ERR_IO, "%s: %s (libssh2 %d)", what,
                 msg != NULL && msg[0] != '\0' ? msg : "error", rc);
}


void bs_step_to(struct cb_bs_session *s, enum cb_bootstrap_step step)
{
    s->step = step;
    unsigned t = s->sh->o->step_timeout != 0 ? s->sh->o->step_timeout : 600;
    timer_arm(s, (uint64_t)t * 1000, false);
    bs_slog(s, CB_LOG_DEBUG, "step %s", cb_bootstrap_step_name(step));
}

/* ---- libuv plumbing ---------------------------------------------------- */

static void on_close(uv_handle_t *h)
{
    struct cb_bs_session *s = h->data;
    if (h != (uv_handle_t *)&s->timer)
        free(h);
    if (--s->handles == 0 && s->reported) {
        bs_buf_free(&s->run_out);
        bs_buf_free(&s->run_err);
        free(s->host_keys);
        free(s->command);
        free(s->root);
        free(s);
    }
}

static void poll_close(struct cb_bs_session *s)
{
    if (s->poll != NULL) {
        uv_poll_stop(s->poll);
        uv_close((uv_handle_t *)s->poll, on_close);
        s->poll = NULL;
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    drive(h->data);
}

static int poll_arm(struct cb_bs_session *s, int events)
{
    if (s->poll == NULL) {
        s->poll = malloc(sizeof *s->poll);
        if (s->poll == NULL || uv_poll_init_socket(s->loop, s->poll, s->fd) != 0) {
            free(s->poll);
            s->poll = NULL;
            return bs_failf(s, CB_ERR_INTERNAL, "cannot watch the socket");
        }
        s->poll->data = s;
        s->handles++;
    }
    if (uv_poll_start(s->poll, events, on_poll) != 0)
        return bs_failf(s, CB_ERR_INTERNAL, "cannot watch the socket");
    return RC_AGAIN;
}

static void on_timer(uv_timer_t *t)
{
    struct cb_bs_session *s = t->data;
    if (s->timer_is_backoff) {
        drive(s);
        return;
    }
    if (s->step <= CB_BS_HANDSHAKE) {
        /* One attempt took too long: counts as SSH not being up yet. */
        snprintf(s->last_connect_error, sizeof s->last_connect_error,
                 "attempt timed out after %u s",
                 s->sh->o->connect_timeout != 0 ? s->sh->o->connect_timeout : 30);
        if (connect_retry(s) == RC_FAIL)
            finish(s);
        return;
    }
    /* A hung script leaves the connection usable: harvest through a new
     * channel (bounded by its own step timer). Earlier steps hang on the
     * connection itself: do not reuse it. */
    if (s->step < CB_BS_STAGE || s->step == CB_BS_HARVEST)
        s->broken = true;
    bs_failf(s, CB_ERR_TIMEOUT, "step did not finish within %u s",
          s->sh->o->step_timeout != 0 ? s->sh->o->step_timeout : 600);
    finish(s);
}

static void timer_arm(struct cb_bs_session *s, uint64_t ms, bool backoff)
{
    s->timer_is_backoff = backoff;
    uv_timer_start(&s->timer, on_timer, ms, 0);
}

/* ---- connection -------------------------------------------------------- */

static void ssh_close(struct cb_bs_session *s, bool graceful)
{
    poll_close(s);
    if (s->ssh != NULL) {
        if (graceful && !s->broken)
            (void)libssh2_session_disconnect(s->ssh, "bootstrap finished");
        if (s->fd >= 0)
            shutdown(s->fd, SHUT_RDWR);
        /* With the socket shut down nothing can block: let libssh2 free
         * channels and state in blocking mode. */
        libssh2_session_set_blocking(s->ssh, 1);
        bs_sftp_abort(s);
        if (s->ch != NULL)
            libssh2_channel_free(s->ch);
        s->ch = NULL;
        libssh2_session_free(s->ssh);
        s->ssh = NULL;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

/* Connection attempt failed: back off and retry, or give up at the deadline. */
static int connect_retry(struct cb_bs_session *s)
{
    uv_timer_stop(&s->timer);
    ssh_close(s, false);
    s->broken = false;
    s->connecting = false;
    s->step = CB_BS_CONNECT;
    uint64_t now = uv_now(s->loop);
    if (now + s->backoff_ms >= s->wait_deadline) {
        unsigned wait = s->sh->o->wait_timeout != 0 ? s->sh->o->wait_timeout
                        : s->sh->o->connect_timeout != 0 ? s->sh->o->connect_timeout : 30;
        return bs_failf(s, CB_ERR_TIMEOUT,
                     "SSH on %s port %u did not come up within %u s (%u attempts; last: %s)",
                     s->address, s->port, wait, s->attempts, s->last_connect_error);
    }
    bs_slog(s, CB_LOG_DEBUG, "SSH not up yet (%s), retry in %u ms", s->last_connect_error,
         s->backoff_ms);
    timer_arm(s, s->backoff_ms, true);
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
    return RC_WAIT;
}

static int do_connect(struct cb_bs_session *s)
{
    if (!s->connecting) {
        struct sockaddr_storage ss;
        socklen_t sl;
        memset(&ss, 0, sizeof ss);
        struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, s->address, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons((uint16_t)s->port);
            sl = sizeof *v4;
        } else if (inet_pton(AF_INET6, s->address, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)s->port);
            sl = sizeof *v6;
        } else {
            return bs_failf(s, CB_ERR_INVALID, "address '%s' is not numeric IPv4 or IPv6",
                         s->address);
        }
        s->attempts++;
        s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            return bs_failf(s, CB_ERR_IO, "socket: %s", strerror(errno));
        unsigned ct = s->sh->o->connect_timeout != 0 ? s->sh->o->connect_timeout : 30;
        timer_arm(s, (uint64_t)ct * 1000, false);
        if (connect(s->fd, (struct sockaddr *)&ss, sl) == 0) {
            s->step = CB_BS_HANDSHAKE;
            return RC_DONE;
        }
        if (errno != EINPROGRESS) {
            snprintf(s->last_connect_error, sizeof s->last_connect_error, "%s", strerror(errno));
            return connect_retry(s);
        }
        s->connecting = true;
        return poll_arm(s, UV_WRITABLE);
    }
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    if (soerr == EINPROGRESS)
        return poll_arm(s, UV_WRITABLE);
    s->connecting = false;
    if (soerr != 0) {
        snprintf(s->last_connect_error, sizeof s->last_connect_error, "%s", strerror(soerr));
        return connect_retry(s);
    }
    s->step = CB_BS_HANDSHAKE;
    return RC_DONE;
}

static int do_handshake(struct cb_bs_session *s)
{
    if (s->ssh == NULL) {
        s->ssh = libssh2_session_init_ex(NULL, NULL, NULL, s);
        if (s->ssh == NULL)
            return bs_failf(s, CB_ERR_INTERNAL, "out of memory");
        libssh2_session_set_blocking(s->ssh, 0);
    }
    int rc = libssh2_session_handshake(s->ssh, s->fd);
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return RC_AGAIN;
    if (rc != 0) {
        char *msg = NULL;
        libssh2_session_last_error(s->ssh, &msg, NULL, 0);
        snprintf(s->last_connect_error, sizeof s->last_connect_error, "handshake: %s",
                 msg != NULL ? msg : "failed");
        return connect_retry(s);
    }
    s->step = CB_BS_HOSTKEY;
    return RC_DONE;
}

static int do_hostkey(struct cb_bs_session *s)
{
    size_t len = 0;
    int type = 0;
    const char *key = libssh2_session_hostkey(s->ssh, &len, &type);
    if (key == NULL)
        return bs_failf(s, CB_ERR_PERMANENT, "the server sent no host key");
    cb_hostkey_fingerprint(key, len, s->host_key, sizeof s->host_key);
    const struct cb_bootstrap_options *o = s->sh->o;
    if (o->host_key_policy == CB_HOSTKEY_INSECURE) {
        bs_slog(s, CB_LOG_WARNING,
             "host key %s NOT verified (host_key_policy = insecure): anyone on the path can "
             "impersonate this node",
             s->host_key);
        bs_step_to(s, CB_BS_AUTH);
        return RC_DONE;
    }
    enum cb_hostkey_verdict v = CB_HOSTKEY_NOTFOUND;
    if (cb_known_hosts_check(s->sh->kh, s->node_id, key, len, type, &v, &s->err) != 0)
        return bs_failf(s, CB_ERR_PERMANENT, "host key check failed");
    bool from_console = false;
    if (v == CB_HOSTKEY_NOTFOUND && s->host_keys != NULL) {
        if (cb_host_keys_check_lines(s->host_keys, key, len, &v, &s->err) != 0)
            return bs_failf(s, CB_ERR_PERMANENT, "host key check failed");
        from_console = v == CB_HOSTKEY_MATCH;
    }
    if (v == CB_HOSTKEY_MISMATCH)
        return bs_failf(s, CB_ERR_PERMANENT,
                     "HOST KEY CHANGED: the node presents %s, which is not the key known for "
                     "it; refusing to log in",
                     s->host_key);
    if (v == CB_HOSTKEY_NOTFOUND) {
        if (o->host_key_policy == CB_HOSTKEY_STRICT)
            return bs_failf(s, CB_ERR_PERMANENT,
                         "host key %s is not known (strict policy: it must be in the "
                         "known-hosts file or the console host keys)",
                         s->host_key);
        if (cb_known_hosts_add(s->sh->kh, s->node_id, key, len, type, &s->err) != 0)
            return bs_failf(s, CB_ERR_IO, "cannot record the host key");
        bs_slog(s, CB_LOG_NOTICE, "recorded host key %s (accept-new)", s->host_key);
    } else if (from_console) {
        /* Verified by what the cloud showed on the console: remember it, so
         * a later command (the drain, hours on) needs no console and a
         * changed key is caught even when the console has scrolled. */
        if (cb_known_hosts_add(s->sh->kh, s->node_id, key, len, type, &s->err) != 0)
            return bs_failf(s, CB_ERR_IO, "cannot record the host key");
        bs_slog(s, CB_LOG_NOTICE, "host key %s matches the console's; recorded", s->host_key);
    }
    bs_step_to(s, CB_BS_AUTH);
    return RC_DONE;
}

static int do_auth(struct cb_bs_session *s)
{
    const char *user = s->sh->user;
    int rc = libssh2_userauth_publickey_frommemory(s->ssh, user, strlen(user), NULL, 0,
                                                   s->sh->key, s->sh->key_len, NULL);
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return RC_AGAIN;
    if (rc != 0) {
        if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
            return bs_failf(s, CB_ERR_AUTH, "public key authentication as '%s' was refused", user);
        return bs_ssh_fail(s, rc, "authentication");
    }
    bs_step_to(s, s->is_bootstrap ? CB_BS_STAGE : CB_BS_COMMAND);
    return RC_DONE;
}

/* ---- driver and result ------------------------------------------------- */

static void drive(struct cb_bs_session *s)
{
    if (s->reported)
        return;
    for (;;) {
        int rc;
        switch (s->step) {
        case CB_BS_CONNECT: rc = do_connect(s); break;
        case CB_BS_HANDSHAKE: rc = do_handshake(s); break;
        case CB_BS_HOSTKEY: rc = do_hostkey(s); break;
        case CB_BS_AUTH: rc = do_auth(s); break;
        case CB_BS_STAGE: rc = bs_do_stage(s); break;
        case CB_BS_UPLOAD: rc = bs_do_upload(s); break;
        case CB_BS_RUN: rc = bs_do_run(s); break;
        case CB_BS_COMMAND: rc = bs_do_command(s); break;
        case CB_BS_HARVEST: rc = bs_do_harvest(s); break;
        default: rc = RC_DONE; break;
        }
        if (rc == RC_WAIT)
            return;
        if (rc == RC_AGAIN) {
            if (s->connecting)
                return; /* poll_arm already asked for UV_WRITABLE */
            int dir = libssh2_session_block_directions(s->ssh);
            int ev = 0;
            if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
                ev |= UV_READABLE;
            if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
                ev |= UV_WRITABLE;
            if (poll_arm(s, ev != 0 ? ev : UV_READABLE) == RC_AGAIN)
                return;
            rc = RC_FAIL;
        }
        if (rc == RC_FAIL || s->step == CB_BS_DONE) {
            finish(s);
            return;
        }
    }
}

static void finish(struct cb_bs_session *s)
{
    if (s->reported)
        return;
    bool failed = cb_err_isset(&s->err);
    /* A failed bootstrap that got as far as the node: fetch its logs first. */
    if (failed && s->is_bootstrap && !s->harvesting && s->failed_step >= CB_BS_STAGE &&
        s->failed_step <= CB_BS_RUN && bs_harvest_dir(s) == 0) {
        s->harvesting = true;
        bs_write_report_file(s);
        if (!s->broken && s->ssh != NULL) {
            if (s->ch != NULL) {
                /* Abandon the failed channel (blocking would risk a stall). */
                s->ch = NULL;
            }
            bs_step_to(s, CB_BS_HARVEST);
            bs_chan_reset(s);
            drive(s);
            return;
        }
    }
    if (s->chan.out_fd >= 0)
        close(s->chan.out_fd);
    s->chan.out_fd = -1;
    uv_timer_stop(&s->timer);
    ssh_close(s, !failed);

    struct cb_bootstrap_result r;
    memset(&r, 0, sizeof r);
    r.node_id = s->node_id;
    r.ok = !failed;
    r.step = failed ? s->failed_step : CB_BS_DONE;
    r.err = s->err;
    r.exit_status = s->exit_status;
    char *o = s->run_out.p != NULL ? s->run_out.p : (char[]){ '\0' };
    char *e = s->run_err.p != NULL ? s->run_err.p : (char[]){ '\0' };
    cb_sanitize_inplace(o);
    cb_sanitize_inplace(e);
    r.out = o;
    r.errout = e;
    r.out_truncated = s->run_out.trunc || s->run_err.trunc;
    r.attempts = s->attempts;
    r.seconds = (double)(uv_now(s->loop) - s->t0) / 1000.0;
    cb_strlcpy(r.host_key, s->host_key, sizeof r.host_key);
    r.failure_action = s->sh->o->failure_action;
    r.quarantine_time = s->sh->o->quarantine_time;
    cb_strlcpy(r.harvest_dir, s->harvest_dir, sizeof r.harvest_dir);
    if (failed) {
        char ebuf[CB_ERR_ORIGIN_MAX + CB_ERR_MSG_MAX + 4];
        bs_slog(s, CB_LOG_WARNING, "failed: %s", cb_err_format(&s->err, ebuf, sizeof ebuf));
    } else {
        bs_slog(s, CB_LOG_INFO, "%s in %.1f s", s->is_bootstrap ? "bootstrapped" : "command done",
             r.seconds);
    }
    s->reported = true;
    cb_node_files_free(&s->files);
    bs_chan_reset(s);
    s->cb(s->payload, &r);
    s->done(s->owner, s);
    /* Close the libuv handles; the last close frees the session. */
    uv_close((uv_handle_t *)&s->timer, on_close);
}

/* ---- construction ------------------------------------------------------ */

int cb_bs_session_new(struct cb_bs_session **out, const struct cb_bs_shared *sh,
                      const struct cb_bs_request *req, cb_bs_done_fn done, void *owner,
                      struct cb_err *err)
{
    *out = NULL;
    const struct cb_bootstrap_target *n = req->node;
    struct cb_bs_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, n->node_id, "out of memory");
    s->sh = sh;
    s->loop = req->loop;
    s->cb = req->cb;
    s->payload = req->payload;
    s->done = done;
    s->owner = owner;
    s->fd = -1;
    s->exit_status = -1;
    s->chan.out_fd = -1;
    cb_strlcpy(s->node_id, n->node_id, sizeof s->node_id);
    cb_strlcpy(s->address, n->address, sizeof s->address);
    s->port = n->port != 0 ? n->port : sh->o->port != 0 ? sh->o->port : 22;
    const char *root = n->node_root != NULL ? n->node_root : sh->o->node_root;
    if ((n->host_keys != NULL && (s->host_keys = cb_strdup(n->host_keys)) == NULL) ||
        (req->command != NULL && (s->command = cb_strdup(req->command)) == NULL) ||
        (root != NULL && (s->root = cb_strdup(root)) == NULL)) {
        free(s->host_keys);
        free(s->command);
        free(s);
        return cb_err_set(err, CB_ERR_INTERNAL, n->node_id, "out of memory");
    }
    if (req->files != NULL) {
        s->is_bootstrap = true;
        s->files = *req->files;
        memset(req->files, 0, sizeof *req->files);
    }
    *out = s;
    return 0;
}

void cb_bs_session_start(struct cb_bs_session *s)
{
    s->started = true;
    uv_timer_init(s->loop, &s->timer);
    s->timer.data = s;
    s->handles++;
    s->t0 = uv_now(s->loop);
    unsigned ct = s->sh->o->connect_timeout != 0 ? s->sh->o->connect_timeout : 30;
    unsigned wait = s->sh->o->wait_timeout != 0 ? s->sh->o->wait_timeout : ct;
    s->wait_deadline = s->t0 + (uint64_t)wait * 1000;
    s->backoff_ms = BACKOFF_MIN_MS;
    s->step = CB_BS_CONNECT;
    bs_chan_reset(s);
    /* First drive from the loop, never inside the caller's start call. */
    timer_arm(s, 0, true);
}

void cb_bs_session_cancel(struct cb_bs_session *s)
{
    if (s->reported)
        return;
    bs_failf(s, CB_ERR_TRANSIENT, "cancelled");
    if (!s->started) {
        struct cb_bootstrap_result r;
        memset(&r, 0, sizeof r);
        r.node_id = s->node_id;
        r.step = CB_BS_CONNECT;
        r.err = s->err;
        r.exit_status = -1;
        r.out = r.errout = "";
        r.failure_action = s->sh->o->failure_action;
        r.quarantine_time = s->sh->o->quarantine_time;
        s->reported = true;
        s->cb(s->payload, &r);
        s->done(s->owner, s);
        cb_bs_session_discard(s);
        return;
    }
    s->harvesting = true; /* no harvest on cancel */
    s->broken = true;
    finish(s);
}

void cb_bs_session_discard(struct cb_bs_session *s)
{
    cb_node_files_free(&s->files);
    bs_chan_reset(s);
    free(s->host_keys);
    free(s->command);
    free(s->root);
    free(s);
}

struct cb_bs_session **cb_bs_session_next(struct cb_bs_session *s)
{
    return &s->next;
}
