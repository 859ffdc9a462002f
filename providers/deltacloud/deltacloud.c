/* deltacloud: the Apache Deltacloud driver (REST API 1.x, XML), see provider.h.
 *
 * Deltacloud is a REST front for many clouds; it has no tags and no batch
 * create, so:
 * - boot starts one instance per POST /api/instances, named
 *   "<pool>--<batch_id>-<index>" (the name carries both tags). The POSTs of
 *   one boot call run concurrently (libcurl multi, at most
 *   max_parallel_requests in flight), each on its own connection. Before
 *   booting the instances are listed and an index that exists is never
 *   booted again; POSTs whose reply was lost are resolved by listing once
 *   more. A refusal that would refuse the rest (quota, auth, throttling)
 *   stops the POSTs not yet sent. A partial batch (some created, then quota
 *   or the deadline) returns 0 with what was created AND err saying why the
 *   rest is missing, so the caller sees both.
 * - list is GET /api/instances, filtered here by the "<pool>--" name prefix
 *   (the API has no name filter).
 * - terminate follows the life cycle the servers enforce: running -> stop ->
 *   destroy (DELETE), using the actions each instance offers.
 * The entry point (GET /api) is read once per driver state and must offer the
 * instances collection with the user_name feature. HTTP Basic credentials;
 * X-Deltacloud-Driver / X-Deltacloud-Provider select the back end.
 */
#include "dc_parse.h"
#include "cb_driver.h"
#include "cb_http.h"
#include "cb_text.h"
#include "provider.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Where a setting came from, for init errors (needs a buffer o). */
#define DC_ORIGIN(name) cb_setting_origin(st->settings, "deltacloud", (name), o, sizeof o)
#define DC_USER_DATA_MAX (16 * 1024) /* what the EC2-style back ends accept */
#define DC_BOOT_MAX 10000            /* instances one boot call may ask for */

struct dc_state {
    struct cb_http *http;
    cb_log_fn log;
    void *log_payload;
    const struct cb_settings *settings;
    char pool[CB_NAME_MAX];
    char cloud[CB_NAME_MAX];
    unsigned connect_ms, call_ms;
    char api_url[DC_URL_MAX];
    char *auth_header;             /* "Authorization: Basic ...", wiped on free */
    char driver_header[128], provider_header[256];
    const char *realm, *keyname;
    const char *const *hwp_map;    /* "flavor=hwp_id" entries */
    size_t n_hwp_map;
    unsigned stop_polls;
    unsigned max_parallel;         /* creates in flight at once (max_parallel_requests) */
    bool discovered;
    struct dc_api api;
};

/* Map a non-2xx reply. Deltacloud passes back-end failures through as 500/502
 * with the back end's message, so quota is recognised by its words. */
static int status_error(const struct cb_http_response *r, const char *origin, struct cb_err *err)
{
    char msg[400];
    dc_parse_fault(r->body, r->body_len, msg, sizeof msg);
    bool quota = strcasestr(msg, "quota") != NULL || strcasestr(msg, "LimitExceeded") != NULL ||
                 strcasestr(msg, "InsufficientInstanceCapacity") != NULL;
    enum cb_errcode code = cb_http_status_errcode(r->status, quota);
    return cb_err_set(err, code, origin, "HTTP %ld: %s", r->status, msg[0] ? msg : "(no message)");
}

#define DC_HEADERS_MAX 6

/* The request headers (NULL-terminated) into headers[DC_HEADERS_MAX]. */
static void dc_headers(const struct dc_state *st, bool form, const char **headers)
{
    size_t h = 0;
    headers[h++] = st->auth_header;
    headers[h++] = "Accept: application/xml";
    if (st->driver_header[0])
        headers[h++] = st->driver_header;
    if (st->provider_header[0])
        headers[h++] = st->provider_header;
    if (form)
        headers[h++] = "Content-Type: application/x-www-form-urlencoded";
    headers[h] = NULL;
}

/* One request with credentials and back-end selection, bounded by the
 * call's deadline. (A POST goes out on a fresh connection: cb_http.h.) */
static int dc_request(struct dc_state *st, int64_t deadline, const char *origin,
                      const char *method, const char *url, const char *form,
                      struct cb_http_response *resp, struct cb_err *err)
{
    const char *headers[DC_HEADERS_MAX];
    dc_headers(st, form != NULL, headers);
    struct cb_http_request req = {
        .method = method, .url = url, .headers = headers, .body = form,
        .body_len = form ? strlen(form) : 0, .connect_timeout_ms = st->connect_ms,
        .timeout_ms = cb_remaining_ms(deadline),
    };
    memset(resp, 0, sizeof *resp);
    if (req.timeout_ms == 0)
        return cb_err_set(err, CB_ERR_TIMEOUT, origin, "call deadline of %u ms passed", st->call_ms);
    return cb_http_perform(st->http, origin, &req, resp, err);
}

static int dc_discover(struct dc_state *st, int64_t deadline, struct cb_err *err)
{
    const char *origin = "deltacloud:api";
    if (st->discovered)
        return 0;
    struct cb_http_response resp;
    if (dc_request(st, deadline, origin, "GET", st->api_url, NULL, &resp, err) != 0)
        return -1;
    int rc = -1;
    if (resp.status != 200) {
        status_error(&resp, origin, err);
    } else if (dc_parse_api(resp.body, resp.body_len, &st->api, err) == 0) {
        if (!st->api.has_instances) {
            cb_err_set(err, CB_ERR_PERMANENT, origin,
                       "driver %s offers no instances collection", st->api.driver);
        } else if (!st->api.feature_user_name) {
            cb_err_set(err, CB_ERR_PERMANENT, origin,
                       "driver %s cannot name instances (no user_name feature): instances "
                       "could not carry the pool and batch", st->api.driver);
        } else {
            st->discovered = true;
            st->log(st->log_payload, CB_LOG_INFO, "deltacloud %s: API %s, driver %s%s", st->cloud,
                    st->api.version, st->api.driver,
                    st->api.feature_user_data ? ", user_data" : "");
            rc = 0;
        }
    }
    cb_http_response_free(&resp);
    return rc;
}

/* Every instance the server shows (not only ours) into *all. */
static int dc_list_all(struct dc_state *st, int64_t deadline, struct dc_instance_list *all,
                       struct cb_err *err)
{
    const char *origin = "deltacloud:instances.list";
    char url[DC_URL_MAX + 16];
    if (dc_discover(st, deadline, err) != 0)
        return -1;
    snprintf(url, sizeof url, "%s/instances", st->api_url);
    struct cb_http_response resp;
    if (dc_request(st, deadline, origin, "GET", url, NULL, &resp, err) != 0)
        return -1;
    int rc = resp.status == 200 ? dc_parse_instances(resp.body, resp.body_len, all, err)
                                : status_error(&resp, origin, err);
    cb_http_response_free(&resp);
    return rc;
}

static int dc_list(void *state, struct cb_instance_list *out, struct cb_err *err)
{
    struct dc_state *st = state;
    struct dc_instance_list all = { 0 };
    size_t before = out->n;
    int rc = dc_list_all(st, cb_mono_ms() + st->call_ms, &all, err);
    for (size_t i = 0; rc == 0 && i < all.n; i++) {
        struct cb_instance inst;
        if (dc_to_instance(&all.items[i], st->pool, &inst) != 0)
            continue;
        struct cb_instance *slot = cb_instance_list_add(out);
        if (slot == NULL) {
            rc = cb_err_set(err, CB_ERR_INTERNAL, "deltacloud:instances.list", "out of memory");
            break;
        }
        *slot = inst;
    }
    dc_instance_list_free(&all);
    if (rc != 0)
        out->n = before;
    return rc;
}

/* ---- boot ------------------------------------------------------------------ */

static const char *hwp_for(const struct dc_state *st, const char *flavor)
{
    size_t fl = strlen(flavor);
    for (size_t i = 0; i < st->n_hwp_map; i++)
        if (strncmp(st->hwp_map[i], flavor, fl) == 0 && st->hwp_map[i][fl] == '=')
            return st->hwp_map[i] + fl + 1;
    return flavor;
}

/* Append "&key=value" (value percent-encoded) to a malloc'ed form. */
static int form_add(char **form, const char *key, const char *value)
{
    char *enc = cb_http_urlencode(value, strlen(value));
    if (enc == NULL)
        return -1;
    size_t old = *form ? strlen(*form) : 0;
    size_t need = old + strlen(key) + strlen(enc) + 3;
    char *p = realloc(*form, need);
    if (p == NULL) {
        free(enc);
        return -1;
    }
    snprintf(p + old, need - old, "%s%s=%s", old ? "&" : "", key, enc);
    free(enc);
    *form = p;
    return 0;
}

static char *create_form(const struct dc_state *st, const struct cb_boot_spec *spec,
                         const char *name)
{
    char *form = NULL;
    int bad = form_add(&form, "image_id", spec->image) || form_add(&form, "name", name) ||
              form_add(&form, "hwp_id", hwp_for(st, spec->flavor));
    if (!bad && st->realm != NULL)
        bad = form_add(&form, "realm_id", st->realm);
    if (!bad && st->keyname != NULL)
        bad = form_add(&form, "keyname", st->keyname);
    if (!bad && spec->user_data != NULL && spec->user_data_len > 0) {
        char *b64 = cb_base64_encode(spec->user_data, spec->user_data_len);
        bad = b64 == NULL || form_add(&form, "user_data", b64);
        free(b64);
    }
    if (bad) {
        free(form);
        return NULL;
    }
    return form;
}

static const struct dc_instance *find_name(const struct dc_instance_list *all, const char *name)
{
    for (size_t i = 0; i < all->n; i++)
        if (strcmp(all->items[i].name, name) == 0)
            return &all->items[i];
    return NULL;
}

static int append_instance(struct dc_state *st, const struct dc_instance *d,
                           struct cb_instance_list *out, struct cb_err *err)
{
    struct cb_instance inst;
    if (dc_to_instance(d, st->pool, &inst) != 0)
        return cb_err_set(err, CB_ERR_INVALID, "deltacloud:instances.create",
                          "created instance %s has name \"%s\", not ours", d->id, d->name);
    struct cb_instance *slot = cb_instance_list_add(out);
    if (slot == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "deltacloud:instances.create", "out of memory");
    *slot = inst;
    return 0;
}

/* One instance of a boot call that was not there before. */
enum dc_job_state {
    JOB_UNSENT = 0, /* never started (stop, deadline): not created */
    JOB_CREATED,    /* the reply named the instance */
    JOB_LOST,       /* sent, outcome unknown (no reply, bad reply): may exist */
    JOB_FAILED,     /* the cloud refused it */
};

struct dc_job {
    unsigned index;
    char name[CB_NAME_MAX * 2];
    char *form;
    enum dc_job_state state;
    struct dc_instance inst;
};

struct dc_boot_run {
    struct dc_job *jobs;
    struct cb_err first; /* the first refusal in completion order */
    struct cb_err lost;  /* the first lost reply: counts only if the instance is not found */
};

/* cb_http_perform_many callback: classify one create's outcome. A refusal
 * that will refuse the rest too (quota, auth, throttling, a bad request)
 * stops the remaining POSTs; a lost or failed single request does not. */
static int boot_done(void *payload, size_t i, int rc, struct cb_http_response *resp,
                     const struct cb_err *perr)
{
    struct dc_boot_run *run = payload;
    struct dc_job *job = &run->jobs[i];
    const char *origin = "deltacloud:instances.create";
    struct cb_err e = CB_ERR_INIT;

    if (rc != 0) {
        e = *perr;
        /* No reply, or one too large to read: the create may have happened. */
        job->state = (perr->code == CB_ERR_TIMEOUT || perr->code == CB_ERR_TRANSIENT ||
                      perr->code == CB_ERR_INVALID) ? JOB_LOST : JOB_FAILED;
    } else if (resp->status != 201 && resp->status != 200 && resp->status != 202) {
        status_error(resp, origin, &e);
        job->state = JOB_FAILED;
    } else {
        struct dc_instance_list got = { 0 };
        if (dc_parse_instances(resp->body, resp->body_len, &got, &e) == 0 && got.n != 1)
            cb_err_set(&e, CB_ERR_INVALID, origin, "create reply holds %zu instances, not 1", got.n);
        if (!cb_err_isset(&e) && strcmp(got.items[0].name, job->name) != 0)
            cb_err_set(&e, CB_ERR_INVALID, origin, "create reply names \"%s\", not \"%s\"",
                       got.items[0].name, job->name);
        if (cb_err_isset(&e)) {
            job->state = JOB_LOST; /* accepted, but the reply is no proof: look it up */
        } else {
            job->inst = got.items[0];
            job->state = JOB_CREATED;
        }
        dc_instance_list_free(&got);
    }
    if (job->state == JOB_CREATED)
        return 0;
    cb_err_set(job->state == JOB_LOST ? &run->lost : &run->first, e.code, e.origin, "%s: %s",
               job->name, e.msg);
    switch (e.code) {
    case CB_ERR_TIMEOUT:
    case CB_ERR_TRANSIENT:
    case CB_ERR_INVALID:
        return 0;
    default:
        return 1;
    }
}

/* POST every job concurrently (bounded by max_parallel_requests), then
 * resolve the ones whose reply was lost by listing once: an instance that
 * exists under the job's name was created. */
static void boot_jobs(struct dc_state *st, int64_t deadline, struct dc_job *jobs, size_t n,
                      struct cb_err *first)
{
    const char *origin = "deltacloud:instances.create";
    char url[DC_URL_MAX + 16];
    const char *headers[DC_HEADERS_MAX];
    dc_headers(st, true, headers);
    snprintf(url, sizeof url, "%s/instances", st->api_url);

    struct cb_http_request *reqs = calloc(n, sizeof *reqs);
    if (reqs == NULL) {
        cb_err_set(first, CB_ERR_INTERNAL, origin, "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++)
        reqs[i] = (struct cb_http_request){
            .method = "POST", .url = url, .headers = headers, .body = jobs[i].form,
            .body_len = strlen(jobs[i].form), .connect_timeout_ms = st->connect_ms,
        };
    struct dc_boot_run run = { .jobs = jobs, .first = CB_ERR_INIT, .lost = CB_ERR_INIT };
    unsigned left = cb_remaining_ms(deadline);
    if (left == 0)
        cb_err_set(&run.first, CB_ERR_TIMEOUT, origin, "call deadline of %u ms passed",
                   st->call_ms);
    else
        cb_http_perform_many(origin, reqs, n, st->max_parallel, left, boot_done, &run, &run.first);
    free(reqs);

    size_t lost = 0, unsent = 0;
    for (size_t i = 0; i < n; i++) {
        lost += jobs[i].state == JOB_LOST;
        unsent += jobs[i].state == JOB_UNSENT;
    }
    if (lost > 0) {
        struct dc_instance_list all = { 0 };
        struct cb_err list_err = CB_ERR_INIT;
        if (dc_list_all(st, deadline, &all, &list_err) == 0) {
            size_t found = 0;
            for (size_t i = 0; i < n; i++) {
                const struct dc_instance *d;
                if (jobs[i].state == JOB_LOST && (d = find_name(&all, jobs[i].name)) != NULL) {
                    jobs[i].inst = *d;
                    jobs[i].state = JOB_CREATED;
                    found++;
                }
            }
            st->log(st->log_payload, CB_LOG_NOTICE,
                    "deltacloud %s: %zu create repl%s lost; %zu of those instances exist",
                    st->cloud, lost, lost == 1 ? "y was" : "ies were", found);
        } else {
            st->log(st->log_payload, CB_LOG_WARNING,
                    "deltacloud %s: %zu create repl%s lost and the check failed: %s", st->cloud,
                    lost, lost == 1 ? "y was" : "ies were", list_err.msg);
        }
        dc_instance_list_free(&all);
    }
    for (size_t i = 0; i < n; i++)
        if (jobs[i].state == JOB_LOST) /* still unknown: may exist, not ours to count */
            cb_err_set(&run.first, run.lost.code, run.lost.origin, "%s", run.lost.msg);
    if (unsent > 0 && !cb_err_isset(&run.first))
        cb_err_set(&run.first, CB_ERR_TIMEOUT, origin, "call deadline passed before %zu of %zu "
                   "creates were sent", unsent, n);
    *first = run.first;
}

static int dc_boot(void *state, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                   struct cb_err *err)
{
    struct dc_state *st = state;
    const char *origin = "deltacloud:instances.create";
    int64_t deadline = cb_mono_ms() + st->call_ms;
    size_t before = out->n;

    if (spec->batch_id == NULL || !cb_is_safe_name(spec->batch_id) || strlen(spec->batch_id) > 48)
        return cb_err_set(err, CB_ERR_INVALID, origin, "batch id must be [A-Za-z0-9._-], <= 48 chars");
    if (spec->count < 1 || spec->count > DC_BOOT_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "count %u out of range 1..%d", spec->count,
                          DC_BOOT_MAX);
    if (spec->flavor == NULL || spec->flavor[0] == '\0' || spec->image == NULL ||
        spec->image[0] == '\0')
        return cb_err_set(err, CB_ERR_INVALID, origin, "boot without flavor or image");
    if (spec->spot)
        return cb_err_set(err, CB_ERR_PERMANENT, origin,
                          "Deltacloud has no spot market (the driver does not announce "
                          "CB_PROVIDER_CAP_SPOT)");
    if (spec->user_data_len > DC_USER_DATA_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "user data of %zu bytes: at most %d",
                          spec->user_data_len, DC_USER_DATA_MAX);

    /* Idempotency: what a previous call with this batch id created is listed
     * first and never created again. */
    struct dc_instance_list all = { 0 };
    if (dc_list_all(st, deadline, &all, err) != 0)
        return -1;
    if (spec->user_data_len > 0 && !st->api.feature_user_data)
        st->log(st->log_payload, CB_LOG_WARNING,
                "deltacloud %s: driver %s does not announce user_data; sending it anyway",
                st->cloud, st->api.driver);

    int rc = -1;
    struct cb_err first = CB_ERR_INIT;
    const struct dc_instance **have = calloc(spec->count, sizeof *have);
    struct dc_job *jobs = calloc(spec->count, sizeof *jobs);
    size_t njobs = 0, existing = 0;
    if (have == NULL || jobs == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        goto out;
    }
    for (unsigned i = 0; i < spec->count; i++) {
        char name[CB_NAME_MAX * 2];
        snprintf(name, sizeof name, "%s--%s-%u", st->pool, spec->batch_id, i);
        if ((have[i] = find_name(&all, name)) != NULL) {
            existing++;
            continue;
        }
        struct dc_job *job = &jobs[njobs++];
        job->index = i;
        cb_strlcpy(job->name, name, sizeof job->name);
        if ((job->form = create_form(st, spec, name)) == NULL) {
            cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
            goto out;
        }
    }
    if (njobs > 0)
        boot_jobs(st, deadline, jobs, njobs, &first);

    /* Append in index order: what existed and what was created now. */
    size_t j = 0;
    for (unsigned i = 0; i < spec->count; i++) {
        const struct dc_instance *d = have[i];
        if (d == NULL && j < njobs && jobs[j].index == i) {
            if (jobs[j].state == JOB_CREATED)
                d = &jobs[j].inst;
            j++;
        }
        if (d != NULL && append_instance(st, d, out, err) != 0) {
            out->n = before;
            goto out;
        }
    }
    if (existing > 0)
        st->log(st->log_payload, CB_LOG_INFO,
                "deltacloud %s: batch %s: %zu instance(s) existed and were not booted again",
                st->cloud, spec->batch_id, existing);
    if (out->n > before) {
        /* A partial batch is a success that still says why it is partial. */
        if (cb_err_isset(&first)) {
            st->log(st->log_payload, CB_LOG_WARNING,
                    "deltacloud %s: batch %s: started %zu of %u: %s", st->cloud, spec->batch_id,
                    out->n - before, spec->count, first.msg);
            cb_err_set(err, first.code, first.origin, "started %zu of %u: %s", out->n - before,
                       spec->count, first.msg);
        }
        rc = 0;
    } else {
        cb_err_set(err, first.code, first.origin, "%s", first.msg);
    }
out:
    for (size_t i = 0; jobs != NULL && i < njobs; i++)
        free(jobs[i].form);
    free(jobs);
    free(have);
    dc_instance_list_free(&all);
    return rc;
}

/* ---- terminate --------------------------------------------------------------- */

static int dc_show(struct dc_state *st, int64_t deadline, const char *url,
                   struct dc_instance *out, bool *gone, struct cb_err *err)
{
    struct cb_http_response resp;
    *gone = false;
    if (dc_request(st, deadline, "deltacloud:instances.show", "GET", url, NULL, &resp,
                   err) != 0)
        return -1;
    int rc = -1;
    if (resp.status == 404) {
        *gone = true;
        rc = 0;
    } else if (resp.status != 200) {
        status_error(&resp, "deltacloud:instances.show", err);
    } else {
        struct dc_instance_list one = { 0 };
        if (dc_parse_instances(resp.body, resp.body_len, &one, err) == 0) {
            if (one.n == 1) {
                *out = one.items[0];
                rc = 0;
            } else {
                cb_err_set(err, CB_ERR_INVALID, "deltacloud:instances.show", "no instance in reply");
            }
        }
        dc_instance_list_free(&one);
    }
    cb_http_response_free(&resp);
    return rc;
}

static int terminate_one(struct dc_state *st, int64_t deadline, const char *id, struct cb_err *err)
{
    char url[DC_URL_MAX + CB_ID_MAX * 3 + 32], action[sizeof url + 8];
    char *enc = cb_http_urlencode(id, strlen(id));
    if (enc == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "deltacloud:instances.destroy", "out of memory");
    snprintf(url, sizeof url, "%s/instances/%s", st->api_url, enc);
    free(enc);

    struct dc_instance d;
    bool gone;
    if (dc_show(st, deadline, url, &d, &gone, err) != 0)
        return -1;
    if (gone)
        return 0;
    if (!(d.actions & DC_ACTION_DESTROY) && (d.actions & DC_ACTION_STOP)) {
        struct cb_http_response resp;
        snprintf(action, sizeof action, "%s/stop", url);
        if (dc_request(st, deadline, "deltacloud:instances.stop", "POST", action, "", &resp,
                       err) != 0)
            return -1;
        long status = resp.status;
        bool ok = status >= 200 && status <= 299;
        if (!ok && status != 404)
            status_error(&resp, "deltacloud:instances.stop", err);
        cb_http_response_free(&resp);
        if (!ok)
            return status == 404 ? 0 : -1; /* gone meanwhile: done */
        /* Wait (bounded) for the state that offers destroy. */
        for (unsigned poll = 0; poll <= st->stop_polls; poll++) {
            if (dc_show(st, deadline, url, &d, &gone, err) != 0)
                return -1;
            if (gone)
                return 0;
            if (d.actions & DC_ACTION_DESTROY)
                break;
            unsigned wait = 250;
            if (poll == st->stop_polls || cb_remaining_ms(deadline) <= wait)
                return cb_err_set(err, CB_ERR_TRANSIENT, "deltacloud:instances.stop",
                                  "instance %s still %s after stop", d.id, d.state);
            cb_sleep_ms(wait);
        }
    }
    struct cb_http_response resp;
    if (dc_request(st, deadline, "deltacloud:instances.destroy", "DELETE", url, NULL, &resp,
                   err) != 0)
        return -1;
    int rc = 0;
    if (!(resp.status >= 200 && resp.status <= 299) && resp.status != 404)
        rc = status_error(&resp, "deltacloud:instances.destroy", err);
    cb_http_response_free(&resp);
    return rc;
}

static int dc_terminate(void *state, const char *const *ids, size_t n, bool *failed,
                        struct cb_err *err)
{
    struct dc_state *st = state;
    int64_t deadline = cb_mono_ms() + st->call_ms;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        struct cb_err one = CB_ERR_INIT;
        int r = ids[i][0] == '\0'
                    ? cb_err_set(&one, CB_ERR_INVALID, "deltacloud:instances.destroy", "empty id")
                    : terminate_one(st, deadline, ids[i], &one);
        if (failed != NULL)
            failed[i] = r != 0;
        if (r != 0) {
            char clean[CB_ID_MAX];
            cb_sanitize(clean, sizeof clean, ids[i]);
            cb_err_set(err, one.code, one.origin, "instance %s: %s", clean, one.msg);
            st->log(st->log_payload, CB_LOG_WARNING, "deltacloud %s: destroy %s failed: %s",
                    st->cloud, clean, one.msg);
            rc = -1;
        }
    }
    return rc;
}

/* ---- init / fini ------------------------------------------------------------ */

static const struct cb_setting_spec dc_settings[] = {
    { .name = "api_url", .type = CB_SETTING_STRING, .required = true,
      .doc = "Deltacloud API entry point, e.g. https://deltacloud.example.org/api" },
    { .name = "username", .type = CB_SETTING_STRING, .required = true,
      .doc = "user name (the back-end cloud's key) for HTTP Basic authentication" },
    { .name = "password_file", .type = CB_SETTING_SECRET_FILE, .required = true,
      .doc = "file holding the password (the back-end cloud's secret)" },
    { .name = "driver", .type = CB_SETTING_STRING,
      .doc = "back-end driver (X-Deltacloud-Driver), e.g. ec2, openstack; unset = server default" },
    { .name = "provider", .type = CB_SETTING_STRING,
      .doc = "back-end provider/region (X-Deltacloud-Provider)" },
    { .name = "realm", .type = CB_SETTING_STRING, .doc = "realm_id to boot in; unset = any" },
    { .name = "keyname", .type = CB_SETTING_STRING, .doc = "key to inject (authentication_key)" },
    { .name = "hardware_profiles", .type = CB_SETTING_STRING_LIST,
      .doc = "flavor=hwp_id mappings; a flavor without one is used as hwp_id" },
    { .name = "stop_polls", .type = CB_SETTING_INT, .default_value = "20", .min = 0, .max = 600,
      .doc = "state checks (250 ms apart) while an instance stops before destroy" },
    { .name = "max_parallel_requests", .type = CB_SETTING_INT, .default_value = "64", .min = 1,
      .max = 256,
      .doc = "creates one boot call keeps in flight at once (Deltacloud has no batch create)" },
    { .name = NULL },
};

static void dc_fini(void *state)
{
    struct dc_state *st = state;
    if (st == NULL)
        return;
    if (st->auth_header != NULL) {
        explicit_bzero(st->auth_header, strlen(st->auth_header));
        free(st->auth_header);
    }
    cb_http_free(st->http);
    explicit_bzero(st, sizeof *st);
    free(st);
}

static int dc_init(void **out, const struct cb_provider_init *args, struct cb_err *err)
{
    char o[CB_ERR_ORIGIN_MAX];
    *out = NULL;
    if (args == NULL || args->log == NULL || args->pool_name == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "deltacloud", "init without arguments");
    if (!cb_is_safe_name(args->pool_name) || strlen(args->pool_name) >= CB_NAME_MAX - 8)
        return cb_err_set(err, CB_ERR_INVALID, "deltacloud", "pool name is not a safe name");
    struct dc_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "deltacloud", "out of memory");
    st->log = args->log;
    st->log_payload = args->log_payload;
    st->settings = args->settings;
    st->connect_ms = args->connect_timeout_ms ? args->connect_timeout_ms : 10000;
    st->call_ms = args->call_timeout_ms ? args->call_timeout_ms : 60000;
    cb_strlcpy(st->pool, args->pool_name, sizeof st->pool);
    cb_sanitize(st->cloud, sizeof st->cloud, args->cloud_name ? args->cloud_name : "deltacloud");
    xmlInitParser(); /* idempotent; must precede parsing from threads */

    const char *url = cb_setting_text(st->settings, "api_url");
    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        cb_strlcpy(st->api_url, url, sizeof st->api_url) >= sizeof st->api_url) {
        cb_err_set(err, CB_ERR_INVALID, DC_ORIGIN("api_url"),
                   "must be an http:// or https:// URL");
        goto fail;
    }
    for (size_t l = strlen(st->api_url); l > 0 && st->api_url[l - 1] == '/'; l--)
        st->api_url[l - 1] = '\0';
    const char *user = cb_setting_text(st->settings, "username");
    const char *pass = cb_setting_text(st->settings, "password_file");
    if (user == NULL || strchr(user, ':') != NULL) {
        cb_err_set(err, CB_ERR_INVALID, DC_ORIGIN("username"),
                   "required, and may not contain ':'");
        goto fail;
    }
    if (pass == NULL) {
        cb_err_set(err, CB_ERR_INVALID, DC_ORIGIN("password_file"), "required");
        goto fail;
    }
    size_t ul = strlen(user), pl = strlen(pass);
    char *pair = malloc(ul + pl + 2);
    if (pair == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "deltacloud", "out of memory");
        goto fail;
    }
    memcpy(pair, user, ul);
    pair[ul] = ':';
    memcpy(pair + ul + 1, pass, pl + 1);
    char *b64 = cb_base64_encode(pair, ul + pl + 1);
    explicit_bzero(pair, ul + pl + 1);
    free(pair);
    if (b64 != NULL) {
        size_t need = strlen(b64) + 32;
        st->auth_header = malloc(need);
        if (st->auth_header != NULL)
            snprintf(st->auth_header, need, "Authorization: Basic %s", b64);
        explicit_bzero(b64, strlen(b64));
        free(b64);
    }
    if (st->auth_header == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "deltacloud", "out of memory");
        goto fail;
    }
    const char *drv = cb_setting_text(st->settings, "driver");
    const char *prov = cb_setting_text(st->settings, "provider");
    if (drv != NULL && !cb_is_safe_name(drv)) {
        cb_err_set(err, CB_ERR_INVALID, DC_ORIGIN("driver"),
                   "expected a driver name such as ec2 or openstack");
        goto fail;
    }
    if (drv != NULL)
        snprintf(st->driver_header, sizeof st->driver_header, "X-Deltacloud-Driver: %s", drv);
    if (prov != NULL) {
        char clean[200];
        cb_sanitize(clean, sizeof clean, prov);
        snprintf(st->provider_header, sizeof st->provider_header, "X-Deltacloud-Provider: %s", clean);
    }
    st->realm = cb_setting_text(st->settings, "realm");
    st->keyname = cb_setting_text(st->settings, "keyname");
    const struct cb_setting *m = cb_settings_find(st->settings, "hardware_profiles");
    if (m != NULL && m->type == CB_SETTING_STRING_LIST) {
        st->hwp_map = m->list;
        st->n_hwp_map = m->list_len;
        for (size_t i = 0; i < m->list_len; i++) {
            const char *eq = strchr(m->list[i], '=');
            if (eq == NULL || eq == m->list[i] || eq[1] == '\0') {
                cb_err_set(err, CB_ERR_INVALID, DC_ORIGIN("hardware_profiles"),
                           "entry %zu is not flavor=hwp_id", i);
                goto fail;
            }
        }
    }
    st->stop_polls = (unsigned)cb_settings_int(st->settings, "stop_polls", 20);
    long long par = cb_settings_int(st->settings, "max_parallel_requests", 64);
    if (par < 1 || par > 256) {
        cb_err_set(err, CB_ERR_INVALID, DC_ORIGIN("max_parallel_requests"),
                   "%lld is out of range 1..256", par);
        goto fail;
    }
    st->max_parallel = (unsigned)par;
    if (cb_http_new(&st->http, err) != 0)
        goto fail;
    *out = st;
    return 0;
fail:
    dc_fini(st);
    return -1;
}

const struct cb_provider_ops cb_provider_ops_v1 = {
    .abi_version = CB_PROVIDER_ABI_VERSION,
    .name = "deltacloud",
    .description = "Apache Deltacloud REST API (XML): one instance per create, tags in the name",
    .caps = 0,
    .settings = dc_settings,
    .init = dc_init,
    .boot = dc_boot,
    .list = dc_list,
    .terminate = dc_terminate,
    .host_keys = NULL,
    .fini = dc_fini,
};
