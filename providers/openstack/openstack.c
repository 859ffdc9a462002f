/* openstack: the OpenStack driver (Keystone v3 + Nova), see provider.h.
 *
 * Translates the provider contract into Nova calls and nothing more:
 * - auth: Keystone v3 password (project scope) or application credential;
 *   the token (X-Subject-Token) is cached until `token_refresh_margin`
 *   seconds before its expires_at, and refreshed once on a 401.
 * - boot: one multi-create POST /servers (min_count 1, max_count K) named
 *   "<pool>--<batch_id>" with metadata cloudburst-pool / cloudburst-batch.
 *   Nova names the servers "<name>-N" (1-based) when K > 1, which gives the
 *   node index. Before booting, and after a POST whose reply was lost, the
 *   batch is listed, so a repeated boot returns what exists instead of booting
 *   again.
 * - list: GET /servers/detail filtered by a name regex, paginated by
 *   limit/marker (the marker taken from servers_links rel=next).
 * - terminate: DELETE /servers/{id}; 404 means already gone.
 * - host_keys: the SSH host keys cloud-init printed to the console
 *   (os-getConsoleOutput), so the bootstrapper can pin them.
 * Every request carries the compute microversion headers; a server that
 * ignores them is noticed (logged once) and a 406 drops them for good.
 * Keystone, the token cache and the single request live in os_client.c; the
 * reply parsers in os_parse.c. State is per cloud and used by one thread at
 * a time (provider.h).
 */
#include "os_client.h"
#include "cb_text.h"
#include "provider.h"

#include <json-c/json.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Where a setting came from, for init errors (needs a buffer o). */
#define OS_ORIGIN(name) cb_setting_origin(st->settings, "openstack", (name), o, sizeof o)
#define OS_USER_DATA_MAX 65535 /* Nova's limit on the base64 text */
#define OS_MAX_PAGES 100000

static void opt_list(const struct os_state *st, const char *name, const char *const **out,
                     size_t *n)
{
    const struct cb_setting *s = cb_settings_find(st->settings, name);
    *out = NULL;
    *n = 0;
    if (s != NULL && s->type == CB_SETTING_STRING_LIST) {
        *out = s->list;
        *n = s->list_len;
    }
}

/* Nova's user-facing error text for a non-2xx reply, with the status. */
/* ---- listing ------------------------------------------------------------- */

/* A Nova name regex: "^<pool>--" (every batch) or "^<pool>--<batch>(-[0-9]+)?$". */
static char *name_regex(const struct os_state *st, const char *batch)
{
    char re[CB_NAME_MAX * 4 + 32];
    size_t o = 0;
    re[o++] = '^';
    for (const char *p = st->pool; *p && o < sizeof re - 8; p++) {
        if (*p == '.')
            re[o++] = '\\';
        re[o++] = *p;
    }
    re[o] = '\0';
    if (batch == NULL)
        snprintf(re + o, sizeof re - o, "--");
    else
        snprintf(re + o, sizeof re - o, "--%s(-[0-9]+)?$", batch);
    return cb_http_urlencode(re, strlen(re));
}

static int os_list_filtered(struct os_state *st, int64_t deadline, const char *batch,
                            struct cb_instance_list *out, struct cb_err *err)
{
    const char *origin = "openstack:servers.list";
    struct os_server_filter filter = { .pool = st->pool, .batch = batch };
    char marker[CB_ID_MAX] = "", prev[CB_ID_MAX] = "";
    char *re = name_regex(st, batch);
    int rc = -1;

    if (re == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    if (os_ensure_token(st, deadline, err) != 0)
        goto out;
    for (unsigned page = 0; page < OS_MAX_PAGES; page++) {
        char url[OS_URL_MAX * 2 + CB_ID_MAX * 3];
        char *m = marker[0] ? cb_http_urlencode(marker, strlen(marker)) : NULL;
        if (marker[0] && m == NULL) {
            cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
            goto out;
        }
        snprintf(url, sizeof url, "%s/servers/detail?limit=%lld&name=%s%s%s", st->compute_url,
                 st->page_size, re, m ? "&marker=" : "", m ? m : "");
        free(m);
        struct cb_http_response resp;
        if (os_request(st, deadline, origin, "GET", url, NULL, &resp, err) != 0)
            goto out;
        if (resp.status != 200) {
            cb_http_response_free(&resp);
            goto out; /* classified by os_request */
        }
        size_t items = 0;
        cb_strlcpy(prev, marker, sizeof prev);
        int prc = os_parse_servers(resp.body, resp.body_len, &filter, out, &items, marker,
                                   sizeof marker, err);
        cb_http_response_free(&resp);
        if (prc != 0)
            goto out;
        if (marker[0] == '\0' || items == 0) {
            rc = 0;
            goto out;
        }
        if (strcmp(marker, prev) == 0) {
            cb_err_set(err, CB_ERR_INVALID, "openstack:servers_links[next]",
                       "next link repeats marker %s: pagination loop", marker);
            goto out;
        }
    }
    cb_err_set(err, CB_ERR_INVALID, origin, "more than %d pages", OS_MAX_PAGES);
out:
    free(re);
    return rc;
}

static int os_list(void *state, struct cb_instance_list *out, struct cb_err *err)
{
    struct os_state *st = state;
    size_t before = out->n;
    int rc = os_list_filtered(st, cb_mono_ms() + st->call_ms, NULL, out, err);
    if (rc != 0)
        out->n = before;
    return rc;
}

/* ---- boot ------------------------------------------------------------------ */

static bool looks_like_uuid(const char *s)
{
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
            return false;
    }
    return true;
}

static const char *cache_get(struct os_ref *c, const char *want)
{
    for (int i = 0; i < OS_REF_CACHE; i++)
        if (c[i].want[0] != '\0' && strcmp(c[i].want, want) == 0)
            return c[i].id;
    return NULL;
}

static void cache_put(struct os_ref *c, unsigned *next, const char *want, const char *id)
{
    struct os_ref *r = &c[*next % OS_REF_CACHE];
    cb_strlcpy(r->want, want, sizeof r->want);
    cb_strlcpy(r->id, id, sizeof r->id);
    (*next)++;
}

static int resolve_ref(struct os_state *st, int64_t deadline, bool image, const char *want,
                       char *id, size_t id_len, struct cb_err *err)
{
    struct os_ref *cache = image ? st->images : st->flavors;
    const char *hit = cache_get(cache, want);
    if (hit != NULL) {
        cb_strlcpy(id, hit, id_len);
        return 0;
    }
    if (image && looks_like_uuid(want)) {
        cb_strlcpy(id, want, id_len);
        return 0;
    }
    char url[OS_URL_MAX * 2];
    char *q = cb_http_urlencode(want, strlen(want));
    if (q == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "openstack", "out of memory");
    const char *origin = image ? "openstack:images" : "openstack:flavors";
    if (os_ensure_token(st, deadline, err) != 0) {
        free(q);
        return -1;
    }
    if (!image) {
        snprintf(url, sizeof url, "%s/flavors?limit=1000", st->compute_url);
    } else if (st->image_url[0] != '\0') {
        size_t l = strlen(st->image_url);
        bool v2 = l >= 3 && strcmp(st->image_url + l - 3, "/v2") == 0;
        snprintf(url, sizeof url, "%s%s/images?name=%s", st->image_url, v2 ? "" : "/v2", q);
    } else {
        snprintf(url, sizeof url, "%s/images?name=%s", st->compute_url, q);
    }
    free(q);
    struct cb_http_response resp;
    if (os_request(st, deadline, origin, "GET", url, NULL, &resp, err) != 0)
        return -1;
    int rc = -1;
    if (resp.status == 200 &&
        os_parse_find_ref(resp.body, resp.body_len, image ? "images" : "flavors", want, id,
                          id_len, err) == 0) {
        cache_put(cache, image ? &st->image_next : &st->flavor_next, want, id);
        rc = 0;
    }
    cb_http_response_free(&resp);
    return rc;
}

static void add_string_array(json_object *obj, const char *key, const char *const *v, size_t n,
                             const char *field)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, field, json_object_new_string(v[i]));
        json_object_array_add(arr, e);
    }
    json_object_object_add(obj, key, arr);
}

static char *create_body(const struct os_state *st, const struct cb_boot_spec *spec,
                         const char *flavor_id, const char *image_id, struct cb_err *err)
{
    char name[CB_NAME_MAX * 2 + 4];
    snprintf(name, sizeof name, "%s--%s", st->pool, spec->batch_id);
    json_object *root = json_object_new_object(), *srv = json_object_new_object();
    json_object_object_add(root, "server", srv);
    json_object_object_add(srv, "name", json_object_new_string(name));
    json_object_object_add(srv, "flavorRef", json_object_new_string(flavor_id));
    json_object_object_add(srv, "imageRef", json_object_new_string(image_id));
    json_object_object_add(srv, "min_count", json_object_new_int(1));
    json_object_object_add(srv, "max_count", json_object_new_int((int)spec->count));
    json_object *md = json_object_new_object();
    json_object_object_add(md, CB_TAG_POOL, json_object_new_string(st->pool));
    json_object_object_add(md, CB_TAG_BATCH, json_object_new_string(spec->batch_id));
    json_object_object_add(srv, "metadata", md);
    if (st->key_name != NULL)
        json_object_object_add(srv, "key_name", json_object_new_string(st->key_name));
    if (st->availability_zone != NULL)
        json_object_object_add(srv, "availability_zone",
                               json_object_new_string(st->availability_zone));
    if (st->n_security_groups > 0)
        add_string_array(srv, "security_groups", st->security_groups, st->n_security_groups,
                         "name");
    if (st->n_networks > 0)
        add_string_array(srv, "networks", st->networks, st->n_networks, "uuid");
    else if (st->send_mv && (st->mv_major > 2 || (st->mv_major == 2 && st->mv_minor >= 37)))
        json_object_object_add(srv, "networks", json_object_new_string("auto"));
    if (spec->user_data != NULL && spec->user_data_len > 0) {
        char *b64 = cb_base64_encode(spec->user_data, spec->user_data_len);
        if (b64 == NULL) {
            json_object_put(root);
            cb_err_set(err, CB_ERR_INTERNAL, "openstack:servers.create", "out of memory");
            return NULL;
        }
        if (strlen(b64) > OS_USER_DATA_MAX) {
            size_t l = strlen(b64);
            free(b64);
            json_object_put(root);
            cb_err_set(err, CB_ERR_INVALID, "openstack:servers.create.user_data",
                       "user data is %zu bytes in base64, Nova accepts at most %d", l,
                       OS_USER_DATA_MAX);
            return NULL;
        }
        json_object_object_add(srv, "user_data", json_object_new_string(b64));
        free(b64);
    }
    char *out = cb_strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
    json_object_put(root);
    if (out == NULL)
        cb_err_set(err, CB_ERR_INTERNAL, "openstack:servers.create", "out of memory");
    return out;
}

static int os_boot(void *state, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                   struct cb_err *err)
{
    struct os_state *st = state;
    const char *origin = "openstack:servers.create";
    int64_t deadline = cb_mono_ms() + st->call_ms;
    size_t before = out->n;

    if (spec->batch_id == NULL || !cb_is_safe_name(spec->batch_id) ||
        strlen(spec->batch_id) > 48)
        return cb_err_set(err, CB_ERR_INVALID, origin, "batch id must be [A-Za-z0-9._-], <= 48 chars");
    if (spec->count < 1 || spec->count > 10000)
        return cb_err_set(err, CB_ERR_INVALID, origin, "count %u out of range 1..10000", spec->count);
    if (spec->flavor == NULL || spec->flavor[0] == '\0' || spec->image == NULL ||
        spec->image[0] == '\0')
        return cb_err_set(err, CB_ERR_INVALID, origin, "boot without flavor or image");
    if (spec->spot)
        return cb_err_set(err, CB_ERR_PERMANENT, origin,
                          "Nova has no spot market (the driver does not announce "
                          "CB_PROVIDER_CAP_SPOT)");

    /* Idempotency: a batch that exists is returned, never booted again. */
    if (os_list_filtered(st, deadline, spec->batch_id, out, err) != 0)
        goto fail;
    if (out->n > before) {
        st->log(st->log_payload, CB_LOG_INFO,
                "openstack %s: batch %s already has %zu server(s); not booting again", st->cloud,
                spec->batch_id, out->n - before);
        return 0;
    }
    char flavor_id[CB_ID_MAX], image_id[CB_ID_MAX];
    if (resolve_ref(st, deadline, false, spec->flavor, flavor_id, sizeof flavor_id, err) != 0 ||
        resolve_ref(st, deadline, true, spec->image, image_id, sizeof image_id, err) != 0)
        goto fail;
    char *body = create_body(st, spec, flavor_id, image_id, err);
    if (body == NULL)
        goto fail;
    char url[OS_URL_MAX + 16];
    snprintf(url, sizeof url, "%s/servers", st->compute_url);
    struct cb_http_response resp;
    struct cb_err post_err = CB_ERR_INIT;
    int prc = os_request(st, deadline, origin, "POST", url, body, &resp, &post_err);
    free(body);
    if (prc != 0) {
        /* The reply was lost (timeout, reset): the servers may exist. Look
         * before reporting, so the caller's retry is not needed to find them. */
        if ((post_err.code == CB_ERR_TIMEOUT || post_err.code == CB_ERR_TRANSIENT) &&
            cb_remaining_ms(deadline) > 0) {
            struct cb_err list_err = CB_ERR_INIT;
            if (os_list_filtered(st, deadline, spec->batch_id, out, &list_err) == 0 &&
                out->n > before) {
                st->log(st->log_payload, CB_LOG_NOTICE,
                        "openstack %s: boot reply for batch %s was lost (%s); found %zu server(s)",
                        st->cloud, spec->batch_id, post_err.msg, out->n - before);
                return 0;
            }
        }
        *err = cb_err_isset(err) ? *err : post_err;
        goto fail;
    }
    if (resp.status != 200 && resp.status != 202) {
        cb_http_response_free(&resp);
        *err = cb_err_isset(err) ? *err : post_err;
        goto fail;
    }
    char first_id[CB_ID_MAX];
    int crc = os_parse_create(resp.body, resp.body_len, first_id, sizeof first_id, err);
    cb_http_response_free(&resp);
    if (crc != 0)
        goto fail;
    /* The POST reply names one server at most: the listing gives all K. */
    if (os_list_filtered(st, deadline, spec->batch_id, out, err) != 0)
        goto fail;
    if (out->n == before) {
        struct cb_instance *inst = cb_instance_list_add(out);
        if (inst == NULL) {
            cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
            goto fail;
        }
        cb_strlcpy(inst->id, first_id, sizeof inst->id);
        cb_strlcpy(inst->batch_id, spec->batch_id, sizeof inst->batch_id);
        snprintf(inst->node_id, sizeof inst->node_id, "%s-0", spec->batch_id);
        cb_strlcpy(inst->flavor, spec->flavor, sizeof inst->flavor);
        cb_strlcpy(inst->image, image_id, sizeof inst->image);
        inst->state = CB_INSTANCE_PENDING;
        inst->launch_time = -1;
    }
    return 0;
fail:
    out->n = before;
    return -1;
}

/* ---- terminate ------------------------------------------------------------- */

static int os_terminate(void *state, const char *const *ids, size_t n, bool *failed,
                        struct cb_err *err)
{
    struct os_state *st = state;
    int64_t deadline = cb_mono_ms() + st->call_ms;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        char origin[CB_ID_MAX + 32];
        struct cb_err one = CB_ERR_INIT;
        bool ok = false;
        char *id = cb_http_urlencode(ids[i], strlen(ids[i]));
        snprintf(origin, sizeof origin, "openstack:servers.delete");
        if (id == NULL) {
            cb_err_set(&one, CB_ERR_INTERNAL, origin, "out of memory");
        } else if (ids[i][0] == '\0') {
            cb_err_set(&one, CB_ERR_INVALID, origin, "empty server id");
        } else {
            char url[OS_URL_MAX + CB_ID_MAX * 3 + 16];
            struct cb_http_response resp;
            if (os_ensure_token(st, deadline, &one) == 0) {
                snprintf(url, sizeof url, "%s/servers/%s", st->compute_url, id);
                if (os_request(st, deadline, origin, "DELETE", url, NULL, &resp, &one) == 0) {
                    ok = (resp.status >= 200 && resp.status <= 299) || resp.status == 404;
                    cb_http_response_free(&resp);
                }
            }
        }
        free(id);
        if (failed != NULL)
            failed[i] = !ok;
        if (!ok) {
            char clean[CB_ID_MAX], buf[CB_ERR_MSG_MAX + CB_ERR_ORIGIN_MAX];
            cb_sanitize(clean, sizeof clean, ids[i]);
            cb_err_set(err, one.code ? one.code : CB_ERR_INTERNAL, one.origin, "server %s: %s",
                       clean, one.msg);
            st->log(st->log_payload, CB_LOG_WARNING, "openstack %s: delete %s failed: %s",
                    st->cloud, clean, cb_err_format(&one, buf, sizeof buf));
            rc = -1;
        }
    }
    return rc;
}

/* ---- host keys from the console ---------------------------------------------- */

static int os_host_keys(void *state, const char *instance_id, char *buf, size_t len,
                        struct cb_err *err)
{
    struct os_state *st = state;
    const char *origin = "openstack:servers.console";
    int64_t deadline = cb_mono_ms() + st->call_ms;
    if (len > 0)
        buf[0] = '\0';
    if (instance_id == NULL || instance_id[0] == '\0')
        return cb_err_set(err, CB_ERR_INVALID, origin, "empty server id");
    char *id = cb_http_urlencode(instance_id, strlen(instance_id));
    if (id == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    if (os_ensure_token(st, deadline, err) != 0) {
        free(id);
        return -1;
    }
    char url[OS_URL_MAX + CB_ID_MAX * 3 + 32];
    snprintf(url, sizeof url, "%s/servers/%s/action", st->compute_url, id);
    free(id);
    struct cb_http_response resp;
    if (os_request(st, deadline, origin, "POST", url,
                   "{\"os-getConsoleOutput\": {\"length\": 2000}}", &resp, err) != 0)
        return -1;
    int rc = resp.status == 200
                 ? os_parse_console_host_keys(resp.body, resp.body_len, buf, len, err)
                 : -1; /* non-2xx already classified by os_request */
    cb_http_response_free(&resp);
    return rc;
}

/* ---- init / fini ------------------------------------------------------------ */

static const struct cb_setting_spec os_settings[] = {
    { .name = "auth_url", .type = CB_SETTING_STRING, .required = true,
      .doc = "Keystone v3 URL, e.g. https://keystone.example.org:5000/v3" },
    { .name = "auth_method", .type = CB_SETTING_STRING, .default_value = "password",
      .doc = "password or application_credential" },
    { .name = "username", .type = CB_SETTING_STRING, .doc = "user name (password auth)" },
    { .name = "user_domain", .type = CB_SETTING_STRING, .default_value = "Default",
      .doc = "the user's domain name (password auth)" },
    { .name = "password_file", .type = CB_SETTING_SECRET_FILE,
      .doc = "file holding the password (password auth)" },
    { .name = "application_credential_id", .type = CB_SETTING_STRING,
      .doc = "application credential id (application_credential auth)" },
    { .name = "application_credential_secret_file", .type = CB_SETTING_SECRET_FILE,
      .doc = "file holding the application credential secret" },
    { .name = "project_name", .type = CB_SETTING_STRING,
      .doc = "project to scope the token to (or project_id)" },
    { .name = "project_id", .type = CB_SETTING_STRING, .doc = "project id (wins over project_name)" },
    { .name = "project_domain", .type = CB_SETTING_STRING, .default_value = "Default",
      .doc = "the project's domain name" },
    { .name = "region", .type = CB_SETTING_STRING, .doc = "catalog region; unset = the first match" },
    { .name = "interface", .type = CB_SETTING_STRING, .default_value = "public",
      .doc = "catalog interface: public, internal or admin" },
    { .name = "compute_endpoint", .type = CB_SETTING_STRING,
      .doc = "Nova URL overriding the catalog (e.g. https://nova.example.org:8774/v2.1)" },
    { .name = "networks", .type = CB_SETTING_STRING_LIST,
      .doc = "network UUIDs to attach; empty = Nova's default (\"auto\" from 2.37)" },
    { .name = "key_name", .type = CB_SETTING_STRING, .doc = "Nova keypair to inject" },
    { .name = "security_groups", .type = CB_SETTING_STRING_LIST,
      .doc = "security group names" },
    { .name = "availability_zone", .type = CB_SETTING_STRING, .doc = "availability zone" },
    { .name = "microversion", .type = CB_SETTING_STRING, .default_value = "2.1",
      .doc = "compute API microversion sent with every request" },
    { .name = "page_size", .type = CB_SETTING_INT, .default_value = "1000", .min = 1,
      .max = 10000, .doc = "servers per listing page (limit)" },
    { .name = "token_refresh_margin", .type = CB_SETTING_INT, .default_value = "300", .min = 0,
      .max = 86400, .doc = "seconds before expiry at which the token is renewed" },
    { .name = "throttle_retries", .type = CB_SETTING_INT, .default_value = "3", .min = 0,
      .max = 20, .doc = "429 retries inside one call (bounded by call_timeout)" },
    { .name = NULL },
};

static void os_fini(void *state)
{
    struct os_state *st = state;
    if (st == NULL)
        return;
    os_drop_token(st);
    cb_http_free(st->http);
    explicit_bzero(st, sizeof *st);
    free(st);
}

static int parse_microversion(const char *s, int *major, int *minor)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '.')
        return -1;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end != '\0' || a < 2 || a > 9 || b < 0 || b > 999)
        return -1;
    *major = (int)a;
    *minor = (int)b;
    return 0;
}

static int os_init(void **out, const struct cb_provider_init *args, struct cb_err *err)
{
    char o[CB_ERR_ORIGIN_MAX];
    *out = NULL;
    if (args == NULL || args->log == NULL || args->pool_name == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "openstack", "init without arguments");
    if (!cb_is_safe_name(args->pool_name) || strlen(args->pool_name) >= CB_NAME_MAX - 8)
        return cb_err_set(err, CB_ERR_INVALID, "openstack", "pool name \"%s\" is not a safe name",
                          args->pool_name);
    struct os_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "openstack", "out of memory");
    st->log = args->log;
    st->log_payload = args->log_payload;
    st->settings = args->settings;
    st->connect_ms = args->connect_timeout_ms ? args->connect_timeout_ms : 10000;
    st->call_ms = args->call_timeout_ms ? args->call_timeout_ms : 60000;
    cb_strlcpy(st->pool, args->pool_name, sizeof st->pool);
    cb_sanitize(st->cloud, sizeof st->cloud, args->cloud_name ? args->cloud_name : "openstack");
    st->rng = (uint64_t)cb_mono_ms() ^ (uint64_t)(uintptr_t)st;

    const char *auth_url = cb_setting_text(st->settings, "auth_url");
    if (auth_url == NULL || (strncmp(auth_url, "http://", 7) != 0 &&
                             strncmp(auth_url, "https://", 8) != 0)) {
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("auth_url"),
                   "must be an http:// or https:// URL");
        goto fail;
    }
    if (cb_strlcpy(st->auth_url, auth_url, sizeof st->auth_url) >= sizeof st->auth_url) {
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("auth_url"), "too long");
        goto fail;
    }
    for (size_t l = strlen(st->auth_url); l > 0 && st->auth_url[l - 1] == '/'; l--)
        st->auth_url[l - 1] = '\0';

    const char *method = cb_settings_str(st->settings, "auth_method", "password");
    if (strcmp(method, "password") == 0) {
        st->method = OS_AUTH_PASSWORD;
        st->username = cb_setting_text(st->settings, "username");
        st->password = cb_setting_text(st->settings, "password_file");
        st->user_domain = cb_settings_str(st->settings, "user_domain", "Default");
        st->project_id = cb_setting_text(st->settings, "project_id");
        st->project_name = cb_setting_text(st->settings, "project_name");
        st->project_domain = cb_settings_str(st->settings, "project_domain", "Default");
        const char *missing = st->username == NULL ? "username"
                              : st->password == NULL ? "password_file"
                              : (st->project_id == NULL && st->project_name == NULL) ? "project_name"
                                                                                      : NULL;
        if (missing != NULL) {
            cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN(missing),
                       "required for auth_method password%s",
                       strcmp(missing, "project_name") == 0 ? " (or set project_id)" : "");
            goto fail;
        }
    } else if (strcmp(method, "application_credential") == 0) {
        st->method = OS_AUTH_APP_CRED;
        st->app_cred_id = cb_setting_text(st->settings, "application_credential_id");
        st->app_cred_secret = cb_setting_text(st->settings, "application_credential_secret_file");
        const char *missing = st->app_cred_id == NULL       ? "application_credential_id"
                              : st->app_cred_secret == NULL ? "application_credential_secret_file"
                                                            : NULL;
        if (missing != NULL) {
            cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN(missing),
                       "required for auth_method application_credential");
            goto fail;
        }
    } else {
        char clean[64];
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("auth_method"),
                   "\"%s\": expected password or application_credential",
                   cb_sanitize(clean, sizeof clean, method));
        goto fail;
    }
    st->region = cb_setting_text(st->settings, "region");
    st->interface = cb_settings_str(st->settings, "interface", "public");
    if (strcmp(st->interface, "public") != 0 && strcmp(st->interface, "internal") != 0 &&
        strcmp(st->interface, "admin") != 0) {
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("interface"),
                   "expected public, internal or admin");
        goto fail;
    }
    st->compute_override = cb_setting_text(st->settings, "compute_endpoint");
    if (st->compute_override != NULL &&
        ((strncmp(st->compute_override, "http://", 7) != 0 &&
          strncmp(st->compute_override, "https://", 8) != 0) ||
         strlen(st->compute_override) >= OS_URL_MAX)) {
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("compute_endpoint"),
                   "must be an http:// or https:// URL");
        goto fail;
    }
    st->key_name = cb_setting_text(st->settings, "key_name");
    st->availability_zone = cb_setting_text(st->settings, "availability_zone");
    opt_list(st, "networks", &st->networks, &st->n_networks);
    opt_list(st, "security_groups", &st->security_groups, &st->n_security_groups);
    const char *mv = cb_settings_str(st->settings, "microversion", "2.1");
    if (parse_microversion(mv, &st->mv_major, &st->mv_minor) != 0 ||
        cb_strlcpy(st->microversion, mv, sizeof st->microversion) >= sizeof st->microversion) {
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("microversion"),
                   "expected MAJOR.MINOR such as 2.1 or 2.79");
        goto fail;
    }
    st->send_mv = true;
    st->page_size = cb_settings_int(st->settings, "page_size", 1000);
    st->refresh_margin_s = cb_settings_int(st->settings, "token_refresh_margin", 300);
    st->throttle_retries = cb_settings_int(st->settings, "throttle_retries", 3);
    if (st->page_size < 1 || st->page_size > 10000) {
        cb_err_set(err, CB_ERR_INVALID, OS_ORIGIN("page_size"),
                   "must be 1..10000");
        goto fail;
    }
    if (cb_http_new(&st->http, err) != 0)
        goto fail;
    *out = st;
    return 0;
fail:
    os_fini(st);
    return -1;
}

const struct cb_provider_ops cb_provider_ops_v1 = {
    .abi_version = CB_PROVIDER_ABI_VERSION,
    .name = "openstack",
    .description = "OpenStack: Keystone v3 authentication, Nova servers (multi-create)",
    .caps = CB_PROVIDER_CAP_BATCH_BOOT | CB_PROVIDER_CAP_CONSOLE_HOST_KEYS,
    .settings = os_settings,
    .init = os_init,
    .boot = os_boot,
    .list = os_list,
    .terminate = os_terminate,
    .host_keys = os_host_keys,
    .fini = os_fini,
};
