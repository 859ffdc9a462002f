/* cloud_worker: one thread per cloud that runs the cloud's blocking driver calls.
 *
 * The daemon's loop never calls a driver directly. It submits a struct
 * cb_cloud_call (list, boot or terminate) to the cloud's worker; the worker
 * thread runs the calls of that cloud one after another (a cloud's calls are
 * naturally sequential and drivers are not thread-safe), and each finished
 * call comes back on the LOOP thread through the call's `done` callback
 * (delivered with uv_async). A slow or hung cloud therefore holds only its own
 * thread; the driver's call_timeout bounds even that.
 *
 * The driver's init() and fini() also run on the worker thread, because init
 * may authenticate (a network call). A failed init is reported by the first
 * call's error and cb_cloud_worker_init_error().
 *
 * Ownership: the worker owns the driver state. A submitted call is owned by the
 * worker until its done callback runs; the callback takes it back (and frees
 * it with cb_cloud_call_free when it is done with it). cb_cloud_worker_free()
 * waits for the call in progress, fails the queued ones with CB_ERR_TRANSIENT
 * ("shutting down") through their done callbacks, and joins the thread. It must
 * be called on the loop thread while the loop can still run (to close the
 * uv_async handle).
 */
#ifndef CB_CLOUD_WORKER_H
#define CB_CLOUD_WORKER_H

#include "cb_error.h"
#include "provider_loader.h"

#include <stdbool.h>
#include <uv.h>

enum cb_cloud_op { CB_CLOUD_LIST = 0, CB_CLOUD_BOOT, CB_CLOUD_TERMINATE, CB_CLOUD_HOST_KEYS };

struct cb_cloud_call;
typedef void (*cb_cloud_call_done_fn)(struct cb_cloud_call *call, void *payload);

struct cb_cloud_call {
    enum cb_cloud_op op;
    /* input */
    struct cb_boot_spec boot;         /* BOOT: strings owned by the call (see _new_boot) */
    char **ids;                       /* TERMINATE: owned; HOST_KEYS: the one instance */
    size_t n_ids;
    /* output (valid in the done callback) */
    int rc;                           /* the driver's return value */
    struct cb_err err;
    struct cb_instance_list instances;/* LIST / BOOT result */
    bool *failed;                     /* TERMINATE: per id, owned */
    char *text;                       /* HOST_KEYS: "type base64" lines, owned */
    double seconds;                   /* wall time of the driver call */
    unsigned cloud;                   /* the caller's cloud index, for its own bookkeeping */
    /* completion */
    cb_cloud_call_done_fn done;
    void *payload;
    struct cb_cloud_call *next;       /* queue link (private) */
};

struct cb_cloud_worker;

/* Start the worker thread for one cloud; it loads nothing itself: `module` is
 * an already loaded driver (it must outlive the worker) and `args` is copied
 * (the strings and settings it points to must outlive the worker). */
int cb_cloud_worker_new(struct cb_cloud_worker **out, uv_loop_t *loop,
                        const struct cb_provider_module *module,
                        const struct cb_provider_init *args, struct cb_err *err);

/* Queue a call. Never blocks. On failure (worker stopping, no memory) returns
 * -1 and the call stays the caller's. */
int cb_cloud_worker_submit(struct cb_cloud_worker *w, struct cb_cloud_call *call,
                           struct cb_err *err);

/* Calls queued or running. */
size_t cb_cloud_worker_pending(const struct cb_cloud_worker *w);

/* If the driver's init failed, its error (else NULL). Valid after the first call's done. */
const struct cb_err *cb_cloud_worker_init_error(const struct cb_cloud_worker *w);

void cb_cloud_worker_free(struct cb_cloud_worker *w);

/* Constructors for the calls (NULL on ENOMEM). Strings are copied. */
struct cb_cloud_call *cb_cloud_call_new_list(cb_cloud_call_done_fn done, void *payload);
struct cb_cloud_call *cb_cloud_call_new_boot(const struct cb_boot_spec *spec,
                                             cb_cloud_call_done_fn done, void *payload);
struct cb_cloud_call *cb_cloud_call_new_terminate(const char *const *ids, size_t n,
                                                  cb_cloud_call_done_fn done, void *payload);
/* The SSH host keys instance_id printed on its console (strict host-key
 * checking); drivers without host_keys() fail the call as permanent. */
struct cb_cloud_call *cb_cloud_call_new_host_keys(const char *instance_id,
                                                  cb_cloud_call_done_fn done, void *payload);
void cb_cloud_call_free(struct cb_cloud_call *call);

#endif
