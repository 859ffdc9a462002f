/* os_client: Keystone v3 authentication and one Nova request (see os_client.h). */
#include "os_client.h"
#include "cb_text.h"

#include <json-c/json.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- small helpers ----------------------------------------------------- */

static void wipe_free(char *s)
{
    if (s != NULL) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

/* Map a non-2xx reply: Nova says "Quota exceeded" with 403 or 413. */
static int status_error(const struct cb_http_response *r, const char *origin, bool after_reauth,
                        struct cb_err *err)
{
    char msg[400];
    os_parse_fault(r->body, r->body_len, msg, sizeof msg);
    bool quota = strcasestr(msg, "quota") != NULL;
    enum cb_errcode code = cb_http_status_errcode(r->status, quota);
    return cb_err_set(err, code, origin, "HTTP %ld%s: %s", r->status,
                      after_reauth ? " (after a fresh token)" : "", msg[0] ? msg : "(no message)");
}

/* ---- Keystone ------------------------------------------------------------ */

static json_object *name_domain(const char *name, const char *domain)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object *d = json_object_new_object();
    json_object_object_add(d, "name", json_object_new_string(domain));
    json_object_object_add(o, "domain", d);
    return o;
}

static json_object *auth_body(const struct os_state *st)
{
    json_object *root = json_object_new_object(), *auth = json_object_new_object();
    json_object *ident = json_object_new_object(), *methods = json_object_new_array();
    json_object_object_add(root, "auth", auth);
    json_object_object_add(auth, "identity", ident);
    json_object_object_add(ident, "methods", methods);
    if (st->method == OS_AUTH_APP_CRED) {
        json_object_array_add(methods, json_object_new_string("application_credential"));
        json_object *ac = json_object_new_object();
        json_object_object_add(ac, "id", json_object_new_string(st->app_cred_id));
        json_object_object_add(ac, "secret", json_object_new_string(st->app_cred_secret));
        json_object_object_add(ident, "application_credential", ac);
        return root; /* an application credential carries its own project scope */
    }
    json_object_array_add(methods, json_object_new_string("password"));
    json_object *pw = json_object_new_object();
    json_object *user = name_domain(st->username, st->user_domain);
    json_object_object_add(user, "password", json_object_new_string(st->password));
    json_object_object_add(pw, "user", user);
    json_object_object_add(ident, "password", pw);
    json_object *scope = json_object_new_object(), *project;
    if (st->project_id != NULL) {
        project = json_object_new_object();
        json_object_object_add(project, "id", json_object_new_string(st->project_id));
    } else {
        project = name_domain(st->project_name, st->project_domain);
    }
    json_object_object_add(scope, "project", project);
    json_object_object_add(auth, "scope", scope);
    return root;
}

/* Overwrite the secret strings inside a request document before freeing it. */
static void wipe_json_secrets(json_object *o)
{
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, k, v)
        {
            if (json_object_is_type(v, json_type_string) &&
                (strcmp(k, "password") == 0 || strcmp(k, "secret") == 0))
                explicit_bzero((char *)json_object_get_string(v), (size_t)json_object_get_string_len(v));
            else
                wipe_json_secrets(v);
        }
    }
}

static int os_authenticate(struct os_state *st, int64_t deadline, struct cb_err *err)
{
    const char *origin = "openstack:keystone";
    char url[OS_URL_MAX + 32];
    size_t al = strlen(st->auth_url);
    bool has_v3 = al >= 3 && strcmp(st->auth_url + al - 3, "/v3") == 0;
    snprintf(url, sizeof url, "%s%s/auth/tokens", st->auth_url, has_v3 ? "" : "/v3");

    json_object *doc = auth_body(st);
    if (doc == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    size_t blen = 0;
    const char *body = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &blen);
    const char *headers[] = { "Content-Type: application/json", "Accept: application/json", NULL };
    struct cb_http_request req = {
        .method = "POST", .url = url, .headers = headers, .body = body, .body_len = blen,
        .connect_timeout_ms = st->connect_ms, .timeout_ms = cb_remaining_ms(deadline),
    };
    struct cb_http_response resp;
    int rc = -1;
    if (req.timeout_ms == 0) {
        cb_err_set(err, CB_ERR_TIMEOUT, origin, "call deadline passed before authentication");
    } else if (cb_http_perform(st->http, origin, &req, &resp, err) == 0) {
        char tok[OS_TOKEN_MAX];
        struct os_token_info info;
        if (resp.status != 200 && resp.status != 201) {
            status_error(&resp, origin, false, err);
        } else if (cb_http_header(&resp, "X-Subject-Token", tok, sizeof tok) == NULL ||
                   tok[0] == '\0' || strlen(tok) >= sizeof tok - 1) {
            cb_err_set(err, CB_ERR_INVALID, "openstack:keystone:X-Subject-Token",
                       "token reply without a usable X-Subject-Token header");
        } else if (os_parse_token(resp.body, resp.body_len, st->region, st->interface,
                                  st->compute_override == NULL, &info, err) == 0) {
            wipe_free(st->token);
            st->token = cb_strdup(tok);
            if (st->token == NULL) {
                cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
            } else {
                st->token_expires = info.expires_at;
                if (st->compute_override != NULL)
                    cb_strlcpy(st->compute_url, st->compute_override, sizeof st->compute_url);
                else
                    cb_strlcpy(st->compute_url, info.compute_url, sizeof st->compute_url);
                for (size_t l = strlen(st->compute_url); l > 0 && st->compute_url[l - 1] == '/'; l--)
                    st->compute_url[l - 1] = '\0'; /* paths are appended with their own '/' */
                cb_strlcpy(st->image_url, info.image_url, sizeof st->image_url);
                st->tokens_fetched++;
                st->log(st->log_payload, CB_LOG_DEBUG,
                        "openstack %s: new token, expires at %lld, compute %s", st->cloud,
                        (long long)info.expires_at, st->compute_url);
                rc = 0;
            }
        }
        explicit_bzero(tok, sizeof tok);
        cb_http_response_free(&resp);
    }
    wipe_json_secrets(doc);
    explicit_bzero((char *)body, blen);
    json_object_put(doc);
    return rc;
}

int os_ensure_token(struct os_state *st, int64_t deadline, struct cb_err *err)
{
    if (st->token != NULL && (int64_t)time(NULL) + st->refresh_margin_s < st->token_expires)
        return 0;
    return os_authenticate(st, deadline, err);
}

void os_drop_token(struct os_state *st)
{
    wipe_free(st->token);
    st->token = NULL;
    st->token_expires = 0;
}

/* ---- one Nova request ----------------------------------------------------- */

static int os_request_on(struct os_state *st, struct cb_http *http, int64_t deadline,
                         const char *origin, const char *method, const char *url,
                         const char *body, struct cb_http_response *resp, struct cb_err *err);

/* Perform `method url` with the token, refreshing it once on 401, dropping the
 * microversion header once on 406, and waiting out 429 (Retry-After) while the
 * deadline allows. On 0, *resp holds a reply whose status the caller checks;
 * any non-2xx reply left for the caller is already classified into err. */
int os_request(struct os_state *st, int64_t deadline, const char *origin, const char *method,
               const char *url, const char *body, struct cb_http_response *resp,
               struct cb_err *err)
{
    /* libcurl silently re-sends a request once when a reused connection dies
     * before any reply byte. For POST /servers that would boot the batch
     * twice, so a create always goes out on a connection of its own. */
    bool fresh = strcmp(method, "POST") == 0;
    struct cb_http *http = st->http;
    if (fresh && cb_http_new(&http, err) != 0)
        return -1;
    int rc = os_request_on(st, http, deadline, origin, method, url, body, resp, err);
    if (fresh)
        cb_http_free(http);
    return rc;
}

static int os_request_on(struct os_state *st, struct cb_http *http, int64_t deadline,
                         const char *origin, const char *method, const char *url,
                         const char *body, struct cb_http_response *resp, struct cb_err *err)
{
    bool reauthed = false, mv_dropped = false;
    unsigned throttled = 0;

    memset(resp, 0, sizeof *resp);
    for (;;) {
        if (os_ensure_token(st, deadline, err) != 0)
            return -1;
        char auth[OS_TOKEN_MAX + 32], mv1[64], mv2[64];
        const char *headers[8];
        size_t h = 0;
        snprintf(auth, sizeof auth, "X-Auth-Token: %s", st->token);
        headers[h++] = auth;
        headers[h++] = "Accept: application/json";
        if (body != NULL)
            headers[h++] = "Content-Type: application/json";
        if (st->send_mv) {
            snprintf(mv1, sizeof mv1, "OpenStack-API-Version: compute %s", st->microversion);
            snprintf(mv2, sizeof mv2, "X-OpenStack-Nova-API-Version: %s", st->microversion);
            headers[h++] = mv1;
            headers[h++] = mv2;
        }
        headers[h] = NULL;
        struct cb_http_request req = {
            .method = method, .url = url, .headers = headers, .body = body,
            .body_len = body ? strlen(body) : 0, .connect_timeout_ms = st->connect_ms,
            .timeout_ms = cb_remaining_ms(deadline),
        };
        if (req.timeout_ms == 0) {
            explicit_bzero(auth, sizeof auth);
            return cb_err_set(err, CB_ERR_TIMEOUT, origin, "call deadline of %u ms passed",
                              st->call_ms);
        }
        int rc = cb_http_perform(http, origin, &req, resp, err);
        explicit_bzero(auth, sizeof auth);
        if (rc != 0)
            return -1;

        if (resp->status == 401 && !reauthed) {
            reauthed = true;
            os_drop_token(st);
            cb_http_response_free(resp);
            continue;
        }
        if (resp->status == 406 && st->send_mv && !mv_dropped) {
            st->log(st->log_payload, CB_LOG_WARNING,
                    "openstack %s: compute refused microversion %s (HTTP 406); continuing "
                    "without the microversion header", st->cloud, st->microversion);
            st->send_mv = false;
            mv_dropped = true;
            cb_http_response_free(resp);
            continue;
        }
        if (resp->status == 429 || (resp->status == 413 && resp->body != NULL &&
                                    strcasestr(resp->body, "quota") == NULL)) {
            char ra[32];
            unsigned wait = cb_backoff_delay_ms(throttled, 200, 5000, &st->rng);
            if (cb_http_header(resp, "Retry-After", ra, sizeof ra) != NULL) {
                long s = strtol(ra, NULL, 10);
                if (s >= 0 && s <= 60)
                    wait = (unsigned)s * 1000u + wait / 4;
            }
            if (throttled < (unsigned)st->throttle_retries && wait < cb_remaining_ms(deadline)) {
                throttled++;
                st->log(st->log_payload, CB_LOG_INFO,
                        "openstack %s: %s throttled (HTTP %ld), retrying in %u ms", st->cloud,
                        origin, resp->status, wait);
                cb_http_response_free(resp);
                cb_sleep_ms(wait);
                continue;
            }
        }
        if (resp->status < 200 || resp->status > 299)
            status_error(resp, origin, reauthed && resp->status == 401, err);
        else if (st->send_mv && !st->mv_ignored_logged) {
            char v[64];
            if (cb_http_header(resp, "OpenStack-API-Version", v, sizeof v) == NULL &&
                cb_http_header(resp, "X-OpenStack-Nova-API-Version", v, sizeof v) == NULL) {
                st->mv_ignored_logged = true;
                st->log(st->log_payload, CB_LOG_NOTICE,
                        "openstack %s: compute ignores the microversion header; relying on "
                        "base 2.1 behaviour", st->cloud);
            }
        }
        return 0;
    }
}

