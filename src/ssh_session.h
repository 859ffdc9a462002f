/* ssh_session: one non-blocking libssh2 session on a libuv loop (internal to
 * the bootstrapper; bootstrap.h describes the steps and the contract).
 *
 * bootstrap.c owns the bootstrapper (options, key, script, queue) and creates
 * sessions; ssh_session.c drives one session from connect to its result and
 * hands it back through bs_session_finished(), after which the session frees
 * itself once its libuv handles are closed.
 */
#ifndef CB_SSH_SESSION_H
#define CB_SSH_SESSION_H

#include "bootstrap.h"
#include "ssh_hostkey.h"

struct cb_bs_session;

/* What a session needs from its bootstrapper (read-only while it runs). */
struct cb_bs_shared {
    const struct cb_bootstrap_options *o;
    const char *user;
    const char *key;
    size_t key_len;
    struct cb_known_hosts *kh;          /* NULL in insecure mode */
    size_t output_max;
};

/* A session to run: a bootstrap when files != NULL, else `command`. All
 * fields are copied (files are moved: the session frees them). */
struct cb_bs_request {
    uv_loop_t *loop;
    const struct cb_bootstrap_target *node;
    struct cb_node_files *files;        /* bootstrap: rendered files + script */
    const char *command;                /* command mode */
    cb_bootstrap_cb cb;
    void *payload;
};

/* Called (once) by a session when its callback has run; the bootstrapper
 * unlinks it and may start queued requests. */
typedef void (*cb_bs_done_fn)(void *owner, struct cb_bs_session *s);

int cb_bs_session_new(struct cb_bs_session **out, const struct cb_bs_shared *sh,
                      const struct cb_bs_request *req, cb_bs_done_fn done, void *owner,
                      struct cb_err *err);

/* Start driving (from the loop, on the next iteration). */
void cb_bs_session_start(struct cb_bs_session *s);

/* Abort: the callback fires with a "cancelled" error (now, synchronously). */
void cb_bs_session_cancel(struct cb_bs_session *s);

/* Free a session that was never started (queued, then cancelled). */
void cb_bs_session_discard(struct cb_bs_session *s);

/* Queue links, used by bootstrap.c only. */
struct cb_bs_session **cb_bs_session_next(struct cb_bs_session *s);

#endif
