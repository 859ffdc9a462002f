/* deltacloud: the Apache Deltacloud driver (REST API 1.x, XML), see provider.h.
 *
 * Deltacloud is a REST front for many clouds; it has no tags and no batch
 * create, so:
 * - boot starts one instance per POST /api/instances, named
 *   "<pool>--<batch_id>-<index>" (the name carries both tags). Before booting
 *   the instances are listed and an index that exists is never booted again;
 *   a POST whose reply was lost is resolved by listing once more. A boot
 *   that runs out of call time returns the instances started so far.
 * - list is GET /api/instances, filtered here by the "<pool>--" name prefix
 *   (the API has no name filter).
 * - terminate follows the life cycle the servers enforce: running -> stop ->
 *   destroy (DELETE), using the actions each instance offers.
 * The entry point (GET /api) is read once per driver state and must offer the
 * instances collection with the user_name feature. HTTP Basic credentials;
 * X-Deltacloud-Driver / X-Deltacloud-Provider select the back end.
 */
#include "dc_parse.h"
#include "cb_http.h"
#include "cb_text.h"
#include "provider.h"

#include <libxml/parser.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DC_USER_DATA_MAX (16 * 1024) /* what the EC2-style back ends accept */

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
    bool discovered;
    struct dc_api api;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned remaining_ms(int64_t deadline)
{
    int64_t left = deadline - now_ms();
    return left > 0 ? (unsigned)left : 0;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *setting_origin(const struct dc_state *st, const char *name, char *buf,
                                  size_t len)
{
    const struct cb_setting *s = cb_settings_find(st->settings, name);
    if (s != NULL && s->line > 0 && st->settings->file != NULL)
        snprintf(buf, len, "%s:%d (%s)", st->settings->file, s->line, name);
    else if (st->settings != NULL && st->settings->path != NULL)
        snprintf(buf, len, "%s.%s", st->settings->path, name);
    else
        snprintf(buf, len, "deltacloud.%s", name);
    return buf;
}

static const char *opt_str(const struct dc_state *st, const char *name)
{
    const char *v = cb_settings_str(st->settings, name, NULL);
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

/* Map a non-2xx reply. Deltacloud passes back-end failures through as 500/502
 * with the back end's message, so quota is recognised by its words. */
static int status_error(const struct cb_http_response *r, const char *origin, struct cb_err *err)
{
    char msg[400];
    dc_parse_fault(r->body, r->body_len, msg, sizeof msg);
    bool quota = strcasestr(msg, "quota") != NULL || strcasestr(msg, "LimitExceeded") != NULL ||
                 strcasestr(msg, "InsufficientInstanceCapacity") != NULL;
    enum cb_errcode code;
    switch (r->status) {
    case 400:
    case 405:
    case 406:
        code = CB_ERR_PERMANENT;
        break;
    case 401:
    case 403:
        code = CB_ERR_AUTH;
        break;
    case 404:
        code = CB_ERR_NOT_FOUND;
        break;
    case 409:
        code = CB_ERR_TRANSIENT;
        break;
    case 413:
    case 429:
        code = quota ? CB_ERR_QUOTA : CB_ERR_THROTTLED;
        break;
    default:
        code = r->status >= 500 && r->status <= 599 ? (quota ? CB_ERR_QUOTA : CB_ERR_TRANSIENT)
                                                    : CB_ERR_PERMANENT;
        break;
    }
    return cb_err_set(err, code, origin, "HTTP %ld: %s", r->status, msg[0] ? msg : "(no message)");
}

/* One request with credentials and back-end selection. `fresh` sends it on a
 * new connection: libcurl re-sends a request once when a reused connection
 * dies before the reply, which must never happen to a create. */
static int dc_request(struct dc_state *st, int64_t deadline, const char *origin,
                      const char *method, const char *url, const char *form, bool fresh,
                      struct cb_http_response *resp, struct cb_err *err)
{
    const char *headers[6];
    size_t h = 0;
    headers[h++] = st->auth_header;
    headers[h++] = "Accept: application/xml";
    if (st->driver_header[0])
        headers[h++] = st->driver_header;
    if (st->provider_header[0])
        headers[h++] = st->provider_header;
    if (form != NULL)
        headers[h++] = "Content-Type: application/x-www-form-urlencoded";
    headers[h] = NULL;
    struct cb_http_request req = {
        .method = method, .url = url, .headers = headers, .body = form,
        .body_len = form ? strlen(form) : 0, .connect_timeout_ms = st->connect_ms,
        .timeout_ms = remaining_ms(deadline),
    };
    memset(resp, 0, sizeof *resp);
    if (req.timeout_ms == 0)
        return cb_err_set(err, CB_ERR_TIMEOUT, origin, "call deadline of %u ms passed", st->call_ms);
    struct cb_http *http = st->http;
    if (fresh && cb_http_new(&http, err) != 0)
        return -1;
    int rc = cb_http_perform(http, origin, &req, resp, err);
    if (fresh)
        cb_http_free(http);
    return rc;
}

static int dc_discover(struct dc_state *st, int64_t deadline, struct cb_err *err)
{
    const char *origin = "deltacloud:api";
    if (st->discovered)
        return 0;
    struct cb_http_response resp;
    if (dc_request(st, deadline, origin, "GET", st->api_url, NULL, false, &resp, err) != 0)
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
    if (dc_request(st, deadline, origin, "GET", url, NULL, false, &resp, err) != 0)
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
    int rc = dc_list_all(st, now_ms() + st->call_ms, &all, err);
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

/* POST one instance. 0: appended to out. -1: err set. */
static int boot_one(struct dc_state *st, int64_t deadline, const struct cb_boot_spec *spec,
                    const char *name, struct cb_instance_list *out, struct cb_err *err)
{
    const char *origin = "deltacloud:instances.create";
    char url[DC_URL_MAX + 16];
    snprintf(url, sizeof url, "%s/instances", st->api_url);
    char *form = create_form(st, spec, name);
    if (form == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    struct cb_http_response resp;
    struct cb_err post_err = CB_ERR_INIT;
    int rc = dc_request(st, deadline, origin, "POST", url, form, true, &resp, &post_err);
    free(form);
    if (rc != 0) {
        /* Lost reply: the instance may exist. Look once before giving up. */
        struct dc_instance_list all = { 0 };
        struct cb_err list_err = CB_ERR_INIT;
        const struct dc_instance *d = NULL;
        if ((post_err.code == CB_ERR_TIMEOUT || post_err.code == CB_ERR_TRANSIENT) &&
            dc_list_all(st, deadline, &all, &list_err) == 0 && (d = find_name(&all, name)) != NULL) {
            st->log(st->log_payload, CB_LOG_NOTICE,
                    "deltacloud %s: create reply for %s was lost (%s); the instance exists",
                    st->cloud, name, post_err.msg);
            rc = append_instance(st, d, out, err);
        } else {
            cb_err_set(err, post_err.code, post_err.origin, "%s", post_err.msg);
        }
        dc_instance_list_free(&all);
        return rc;
    }
    if (resp.status != 201 && resp.status != 200 && resp.status != 202) {
        status_error(&resp, origin, err);
        cb_http_response_free(&resp);
        return -1;
    }
    struct dc_instance_list got = { 0 };
    rc = dc_parse_instances(resp.body, resp.body_len, &got, err);
    cb_http_response_free(&resp);
    if (rc == 0 && got.n != 1)
        rc = cb_err_set(err, CB_ERR_INVALID, origin, "create reply holds %zu instances, not 1", got.n);
    if (rc == 0)
        rc = append_instance(st, &got.items[0], out, err);
    dc_instance_list_free(&got);
    return rc;
}

static int dc_boot(void *state, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                   struct cb_err *err)
{
    struct dc_state *st = state;
    const char *origin = "deltacloud:instances.create";
    int64_t deadline = now_ms() + st->call_ms;
    size_t before = out->n;

    if (spec->batch_id == NULL || !cb_is_safe_name(spec->batch_id) || strlen(spec->batch_id) > 48)
        return cb_err_set(err, CB_ERR_INVALID, origin, "batch id must be [A-Za-z0-9._-], <= 48 chars");
    if (spec->count < 1 || spec->count > 10000)
        return cb_err_set(err, CB_ERR_INVALID, origin, "count %u out of range 1..10000", spec->count);
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

    struct dc_instance_list all = { 0 };
    if (dc_list_all(st, deadline, &all, err) != 0)
        return -1;
    if (spec->user_data_len > 0 && !st->api.feature_user_data)
        st->log(st->log_payload, CB_LOG_WARNING,
                "deltacloud %s: driver %s does not announce user_data; sending it anyway",
                st->cloud, st->api.driver);

    struct cb_err first = CB_ERR_INIT;
    size_t existing = 0;
    for (unsigned i = 0; i < spec->count; i++) {
        char name[CB_NAME_MAX * 2];
        snprintf(name, sizeof name, "%s--%s-%u", st->pool, spec->batch_id, i);
        const struct dc_instance *d = find_name(&all, name);
        if (d != NULL) {
            existing++;
            if (append_instance(st, d, out, err) != 0)
                goto fail;
            continue;
        }
        if (remaining_ms(deadline) == 0) {
            cb_err_set(&first, CB_ERR_TIMEOUT, origin, "call deadline passed after %zu of %u",
                       out->n - before, spec->count);
            break;
        }
        if (boot_one(st, deadline, spec, name, out, &first) != 0)
            break; /* keep what started; the caller sees fewer than asked */
    }
    dc_instance_list_free(&all);
    if (existing > 0)
        st->log(st->log_payload, CB_LOG_INFO,
                "deltacloud %s: batch %s: %zu instance(s) existed and were not booted again",
                st->cloud, spec->batch_id, existing);
    if (out->n > before) {
        if (cb_err_isset(&first))
            st->log(st->log_payload, CB_LOG_WARNING,
                    "deltacloud %s: batch %s: started %zu of %u: %s", st->cloud, spec->batch_id,
                    out->n - before, spec->count, first.msg);
        return 0;
    }
    *err = cb_err_isset(err) ? *err : first;
    return -1;
fail:
    dc_instance_list_free(&all);
    out->n = before;
    return -1;
}

/* ---- terminate --------------------------------------------------------------- */

static int dc_show(struct dc_state *st, int64_t deadline, const char *url,
                   struct dc_instance *out, bool *gone, struct cb_err *err)
{
    struct cb_http_response resp;
    *gone = false;
    if (dc_request(st, deadline, "deltacloud:instances.show", "GET", url, NULL, false, &resp,
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
        if (dc_request(st, deadline, "deltacloud:instances.stop", "POST", action, "", false, &resp,
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
            if (poll == st->stop_polls || remaining_ms(deadline) <= wait)
                return cb_err_set(err, CB_ERR_TRANSIENT, "deltacloud:instances.stop",
                                  "instance %s still %s after stop", d.id, d.state);
            sleep_ms(wait);
        }
    }
    struct cb_http_response resp;
    if (dc_request(st, deadline, "deltacloud:instances.destroy", "DELETE", url, NULL, false, &resp,
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
    int64_t deadline = now_ms() + st->call_ms;
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

    const char *url = opt_str(st, "api_url");
    if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        cb_strlcpy(st->api_url, url, sizeof st->api_url) >= sizeof st->api_url) {
        cb_err_set(err, CB_ERR_INVALID, setting_origin(st, "api_url", o, sizeof o),
                   "must be an http:// or https:// URL");
        goto fail;
    }
    for (size_t l = strlen(st->api_url); l > 0 && st->api_url[l - 1] == '/'; l--)
        st->api_url[l - 1] = '\0';
    const char *user = opt_str(st, "username"), *pass = opt_str(st, "password_file");
    if (user == NULL || strchr(user, ':') != NULL) {
        cb_err_set(err, CB_ERR_INVALID, setting_origin(st, "username", o, sizeof o),
                   "required, and may not contain ':'");
        goto fail;
    }
    if (pass == NULL) {
        cb_err_set(err, CB_ERR_INVALID, setting_origin(st, "password_file", o, sizeof o), "required");
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
    const char *drv = opt_str(st, "driver"), *prov = opt_str(st, "provider");
    if (drv != NULL && !cb_is_safe_name(drv)) {
        cb_err_set(err, CB_ERR_INVALID, setting_origin(st, "driver", o, sizeof o),
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
    st->realm = opt_str(st, "realm");
    st->keyname = opt_str(st, "keyname");
    const struct cb_setting *m = cb_settings_find(st->settings, "hardware_profiles");
    if (m != NULL && m->type == CB_SETTING_STRING_LIST) {
        st->hwp_map = m->list;
        st->n_hwp_map = m->list_len;
        for (size_t i = 0; i < m->list_len; i++) {
            const char *eq = strchr(m->list[i], '=');
            if (eq == NULL || eq == m->list[i] || eq[1] == '\0') {
                cb_err_set(err, CB_ERR_INVALID, setting_origin(st, "hardware_profiles", o, sizeof o),
                           "entry %zu is not flavor=hwp_id", i);
                goto fail;
            }
        }
    }
    st->stop_polls = (unsigned)cb_settings_int(st->settings, "stop_polls", 20);
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
