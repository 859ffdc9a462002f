/* cloud_worker: see cloud_worker.h. */
#include "cloud_worker.h"
#include "cb_text.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cb_cloud_worker {
    const struct cb_provider_module *module;
    struct cb_provider_init args;
    void *driver;                      /* driver state, owned by the thread */
    bool init_done, init_failed;
    struct cb_err init_err;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct cb_cloud_call *queue_head, *queue_tail; /* waiting to run */
    struct cb_cloud_call *done_head, *done_tail;   /* finished, waiting for the loop */
    size_t pending;                    /* queued + running + finished-not-delivered */
    bool stopping;

    uv_async_t async;                  /* wakes the loop when calls finish */
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void push(struct cb_cloud_call **head, struct cb_cloud_call **tail, struct cb_cloud_call *c)
{
    c->next = NULL;
    if (*tail)
        (*tail)->next = c;
    else
        *head = c;
    *tail = c;
}

static void run_call(struct cb_cloud_worker *w, struct cb_cloud_call *c)
{
    double t0 = now_seconds();

    cb_err_clear(&c->err);
    if (w->init_failed) {
        c->err = w->init_err;
        c->rc = -1;
        return;
    }
    switch (c->op) {
    case CB_CLOUD_LIST:
        c->rc = w->module->ops->list(w->driver, &c->instances, &c->err);
        break;
    case CB_CLOUD_BOOT:
        c->rc = w->module->ops->boot(w->driver, &c->boot, &c->instances, &c->err);
        break;
    case CB_CLOUD_TERMINATE:
        c->rc = w->module->ops->terminate(w->driver, (const char *const *)c->ids, c->n_ids,
                                          c->failed, &c->err);
        break;
    case CB_CLOUD_HOST_KEYS: {
        /* A console holds a few keys of a few hundred bytes each. */
        enum { HOST_KEYS_MAX = 16384 };
        c->text = calloc(1, HOST_KEYS_MAX);
        if (c->text == NULL)
            c->rc = cb_err_set(&c->err, CB_ERR_INTERNAL, "cloud_worker", "out of memory");
        else
            c->rc = cb_provider_host_keys(w->module, w->driver, c->ids[0], c->text, HOST_KEYS_MAX,
                                          &c->err);
        break;
    }
    default:
        c->rc = cb_err_set(&c->err, CB_ERR_INTERNAL, "cloud_worker", "unknown call %d", c->op);
    }
    /* A driver that fails must say why; one that does not is a driver bug. */
    if (c->rc != 0 && !cb_err_isset(&c->err))
        cb_err_set(&c->err, CB_ERR_INTERNAL, w->module->ops->name,
                   "driver call failed without an error message");
    c->seconds = now_seconds() - t0;
}

static void *worker_main(void *arg)
{
    struct cb_cloud_worker *w = arg;

    if (w->module->ops->init(&w->driver, &w->args, &w->init_err) != 0) {
        w->init_failed = true;
        if (!cb_err_isset(&w->init_err))
            cb_err_set(&w->init_err, CB_ERR_INTERNAL, w->module->ops->name,
                       "driver init failed without an error message");
    }
    pthread_mutex_lock(&w->lock);
    w->init_done = true;
    for (;;) {
        while (w->queue_head == NULL && !w->stopping)
            pthread_cond_wait(&w->wake, &w->lock);
        struct cb_cloud_call *c = w->queue_head;
        if (c == NULL)
            break; /* stopping and nothing left */
        w->queue_head = c->next;
        if (w->queue_head == NULL)
            w->queue_tail = NULL;
        bool stopping = w->stopping;
        pthread_mutex_unlock(&w->lock);

        if (stopping) {
            cb_err_set(&c->err, CB_ERR_TRANSIENT, w->args.cloud_name,
                       "cloud worker shutting down: call not made");
            c->rc = -1;
        } else {
            run_call(w, c);
        }

        pthread_mutex_lock(&w->lock);
        push(&w->done_head, &w->done_tail, c);
        uv_async_send(&w->async);
    }
    pthread_mutex_unlock(&w->lock);
    if (!w->init_failed && w->driver != NULL)
        w->module->ops->fini(w->driver);
    w->driver = NULL;
    return NULL;
}

static void on_async_closed(uv_handle_t *h);

/* Loop thread: hand finished calls back to their owners. */
static void on_async(uv_async_t *a)
{
    struct cb_cloud_worker *w = a->data;

    pthread_mutex_lock(&w->lock);
    struct cb_cloud_call *list = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->lock);

    while (list != NULL) {
        struct cb_cloud_call *c = list;
        list = c->next;
        c->next = NULL;
        pthread_mutex_lock(&w->lock);
        w->pending--;
        pthread_mutex_unlock(&w->lock);
        if (c->done)
            c->done(c, c->payload);
        else
            cb_cloud_call_free(c);
    }
}

int cb_cloud_worker_new(struct cb_cloud_worker **out, uv_loop_t *loop,
                        const struct cb_provider_module *module,
                        const struct cb_provider_init *args, struct cb_err *err)
{
    *out = NULL;
    struct cb_cloud_worker *w = calloc(1, sizeof *w);
    if (w == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "cloud_worker", "out of memory");
    w->module = module;
    w->args = *args;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    int rc = uv_async_init(loop, &w->async, on_async);
    if (rc != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return cb_err_set(err, CB_ERR_INTERNAL, "cloud_worker", "uv_async_init: %s",
                          uv_strerror(rc));
    }
    w->async.data = w;
    if ((rc = pthread_create(&w->thread, NULL, worker_main, w)) != 0) {
        cb_err_set(err, CB_ERR_INTERNAL, "cloud_worker", "cannot start thread for %s",
                   args->cloud_name);
        /* The handle must stay valid until its close completes on the loop. */
        uv_close((uv_handle_t *)&w->async, on_async_closed);
        return -1;
    }
    *out = w;
    return 0;
}

int cb_cloud_worker_submit(struct cb_cloud_worker *w, struct cb_cloud_call *call,
                           struct cb_err *err)
{
    pthread_mutex_lock(&w->lock);
    if (w->stopping) {
        pthread_mutex_unlock(&w->lock);
        return cb_err_set(err, CB_ERR_TRANSIENT, w->args.cloud_name, "cloud worker is stopping");
    }
    push(&w->queue_head, &w->queue_tail, call);
    w->pending++;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

size_t cb_cloud_worker_pending(const struct cb_cloud_worker *w)
{
    struct cb_cloud_worker *mw = (struct cb_cloud_worker *)w;
    pthread_mutex_lock(&mw->lock);
    size_t n = mw->pending;
    pthread_mutex_unlock(&mw->lock);
    return n;
}

const struct cb_err *cb_cloud_worker_init_error(const struct cb_cloud_worker *w)
{
    struct cb_cloud_worker *mw = (struct cb_cloud_worker *)w;
    pthread_mutex_lock(&mw->lock);
    bool failed = mw->init_done && mw->init_failed;
    pthread_mutex_unlock(&mw->lock);
    return failed ? &w->init_err : NULL;
}

static void on_async_closed(uv_handle_t *h)
{
    struct cb_cloud_worker *w = h->data;
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void cb_cloud_worker_free(struct cb_cloud_worker *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    /* Deliver what finished (including the calls failed as "shutting down"). */
    on_async(&w->async);
    uv_close((uv_handle_t *)&w->async, on_async_closed);
}

/* ---- calls ---- */

static struct cb_cloud_call *call_new(enum cb_cloud_op op, cb_cloud_call_done_fn done, void *payload)
{
    struct cb_cloud_call *c = calloc(1, sizeof *c);
    if (c != NULL) {
        c->op = op;
        c->done = done;
        c->payload = payload;
    }
    return c;
}

struct cb_cloud_call *cb_cloud_call_new_list(cb_cloud_call_done_fn done, void *payload)
{
    return call_new(CB_CLOUD_LIST, done, payload);
}

struct cb_cloud_call *cb_cloud_call_new_boot(const struct cb_boot_spec *spec,
                                             cb_cloud_call_done_fn done, void *payload)
{
    struct cb_cloud_call *c = call_new(CB_CLOUD_BOOT, done, payload);
    if (c == NULL)
        return NULL;
    c->boot = *spec;
    c->boot.batch_id = cb_strdup(spec->batch_id);
    c->boot.flavor = cb_strdup(spec->flavor);
    c->boot.image = cb_strdup(spec->image);
    c->boot.user_data = NULL;
    if (spec->user_data != NULL) {
        char *ud = malloc(spec->user_data_len + 1);
        if (ud != NULL) {
            memcpy(ud, spec->user_data, spec->user_data_len);
            ud[spec->user_data_len] = '\0';
        }
        c->boot.user_data = ud;
    }
    if ((spec->batch_id && !c->boot.batch_id) || (spec->flavor && !c->boot.flavor) ||
        (spec->image && !c->boot.image) || (spec->user_data && !c->boot.user_data)) {
        cb_cloud_call_free(c);
        return NULL;
    }
    return c;
}

struct cb_cloud_call *cb_cloud_call_new_terminate(const char *const *ids, size_t n,
                                                  cb_cloud_call_done_fn done, void *payload)
{
    struct cb_cloud_call *c = call_new(CB_CLOUD_TERMINATE, done, payload);
    if (c == NULL)
        return NULL;
    c->ids = calloc(n ? n : 1, sizeof *c->ids);
    c->failed = calloc(n ? n : 1, sizeof *c->failed);
    if (c->ids == NULL || c->failed == NULL) {
        cb_cloud_call_free(c);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((c->ids[i] = cb_strdup(ids[i])) == NULL) {
            c->n_ids = i;
            cb_cloud_call_free(c);
            return NULL;
        }
    }
    c->n_ids = n;
    return c;
}

struct cb_cloud_call *cb_cloud_call_new_host_keys(const char *instance_id,
                                                  cb_cloud_call_done_fn done, void *payload)
{
    struct cb_cloud_call *c = call_new(CB_CLOUD_HOST_KEYS, done, payload);
    if (c == NULL)
        return NULL;
    c->ids = calloc(1, sizeof *c->ids);
    if (c->ids == NULL || (c->ids[0] = cb_strdup(instance_id)) == NULL) {
        cb_cloud_call_free(c);
        return NULL;
    }
    c->n_ids = 1;
    return c;
}

void cb_cloud_call_free(struct cb_cloud_call *c)
{
    if (c == NULL)
        return;
    free((char *)c->boot.batch_id);
    free((char *)c->boot.flavor);
    free((char *)c->boot.image);
    free((char *)c->boot.user_data);
    for (size_t i = 0; i < c->n_ids; i++)
        free(c->ids[i]);
    free(c->ids);
    free(c->failed);
    free(c->text);
    cb_instance_list_free(&c->instances);
    free(c);
}
