/* ec2_api: see ec2_api.h. */
#include "ec2_api.h"
#include "cb_driver.h"
#include "cb_text.h"
#include "ec2_xml.h"
#include "sigv4.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- small helpers -------------------------------------------------------- */

uint64_t ec2_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void ec2_form_addn(struct form *f, const char *s, size_t n)
{
    if (f->oom)
        return;
    if (f->len + n + 1 > f->cap) {
        size_t nc = f->cap ? f->cap : 1024;
        while (nc < f->len + n + 1)
            nc *= 2;
        char *np = realloc(f->p, nc);
        if (np == NULL) {
            f->oom = true;
            return;
        }
        f->p = np;
        f->cap = nc;
    }
    memcpy(f->p + f->len, s, n);
    f->len += n;
    f->p[f->len] = '\0';
}

void ec2_form_add(struct form *f, const char *key, const char *value)
{
    char *ek = cb_http_urlencode(key, strlen(key));
    char *ev = cb_http_urlencode(value, strlen(value));
    if (ek == NULL || ev == NULL) {
        f->oom = true;
    } else {
        if (f->len > 0)
            ec2_form_addn(f, "&", 1);
        ec2_form_addn(f, ek, strlen(ek));
        ec2_form_addn(f, "=", 1);
        ec2_form_addn(f, ev, strlen(ev));
    }
    free(ek);
    free(ev);
}

void ec2_form_addf(struct form *f, const char *value, const char *kfmt, ...)
{
    char key[128];
    va_list ap;
    va_start(ap, kfmt);
    vsnprintf(key, sizeof key, kfmt, ap);
    va_end(ap);
    ec2_form_add(f, key, value);
}

void ec2_form_free(struct form *f)
{
    free(f->p);
    memset(f, 0, sizeof *f);
}

/* ---- error classification ------------------------------------------------- */

struct code_class {
    const char *code;
    enum cb_errcode class;
};

static const struct code_class ec2_codes[] = {
    { "RequestLimitExceeded", CB_ERR_THROTTLED },
    { "Throttling", CB_ERR_THROTTLED },
    { "ThrottlingException", CB_ERR_THROTTLED },
    { "RequestThrottled", CB_ERR_THROTTLED },
    { "InsufficientInstanceCapacity", CB_ERR_QUOTA },
    { "InsufficientCapacity", CB_ERR_QUOTA },
    { "InstanceLimitExceeded", CB_ERR_QUOTA },
    { "VcpuLimitExceeded", CB_ERR_QUOTA },
    { "MaxSpotInstanceCountExceeded", CB_ERR_QUOTA },
    { "SpotMaxPriceTooLow", CB_ERR_QUOTA },
    { "InsufficientFreeAddressesInSubnet", CB_ERR_QUOTA },
    { "AuthFailure", CB_ERR_AUTH },
    { "UnauthorizedOperation", CB_ERR_AUTH },
    { "SignatureDoesNotMatch", CB_ERR_AUTH },
    { "InvalidClientTokenId", CB_ERR_AUTH },
    { "ExpiredToken", CB_ERR_AUTH },
    { "RequestExpired", CB_ERR_AUTH },
    { "OptInRequired", CB_ERR_AUTH },
    { "Blocked", CB_ERR_AUTH },
    { "PendingVerification", CB_ERR_AUTH },
    { "InvalidInstanceID.NotFound", CB_ERR_NOT_FOUND },
    { "InternalError", CB_ERR_TRANSIENT },
    { "InternalFailure", CB_ERR_TRANSIENT },
    { "ServiceUnavailable", CB_ERR_TRANSIENT },
    { "Unavailable", CB_ERR_TRANSIENT },
    { "IdempotentParameterMismatch", CB_ERR_PERMANENT },
};

enum cb_errcode ec2_classify_code(const char *code, long status)
{
    for (size_t i = 0; i < sizeof ec2_codes / sizeof ec2_codes[0]; i++)
        if (strcmp(ec2_codes[i].code, code) == 0)
            return ec2_codes[i].class;
    if (status == 503 || status == 429)
        return CB_ERR_THROTTLED;
    if (status >= 500)
        return CB_ERR_TRANSIENT;
    return CB_ERR_PERMANENT;
}

/* An HTTP reply that is not 200 into err; returns the class. */
static enum cb_errcode map_http_error(const struct cb_http_response *resp, const char *origin,
                                      struct cb_err *err)
{
    struct ec2_error_doc doc;
    struct cb_err perr = CB_ERR_INIT;
    if (ec2_xml_parse_error(resp->body, resp->body_len, &doc, &perr) != 0) {
        enum cb_errcode c = resp->status >= 500 ? CB_ERR_TRANSIENT
                            : resp->status == 401 || resp->status == 403 ? CB_ERR_AUTH
                                                                         : CB_ERR_INVALID;
        cb_err_set(err, c, origin, "HTTP %ld with an unreadable error document: %s", resp->status,
                   perr.msg);
        return c;
    }
    enum cb_errcode c = ec2_classify_code(doc.code, resp->status);
    cb_err_set(err, c, origin, "%s: %s (HTTP %ld, request %s)", doc.code, doc.message,
               resp->status, doc.request_id[0] ? doc.request_id : "-");
    return c;
}

/* ---- credentials ---------------------------------------------------------- */

int ec2_refresh_credentials(struct ec2 *s, uint64_t deadline, bool force, struct cb_err *err)
{
    if (!s->use_imds)
        return 0;
    if (!force && s->cred.access_key_id != NULL &&
        (s->cred.expires < 0 || s->cred.expires > (int64_t)time(NULL) + EC2_CRED_REFRESH_S))
        return 0;
    uint64_t now = ec2_now_ms();
    if (now >= deadline)
        return cb_err_set(err, CB_ERR_TIMEOUT, "ec2:imds", "call deadline passed");
    struct ec2_credentials fresh;
    if (ec2_cred_fetch_imds(s->http, s->imds_endpoint, s->connect_timeout_ms,
                            (unsigned)(deadline - now), &fresh, err) != 0)
        return -1;
    ec2_cred_wipe(&s->cred);
    s->cred = fresh;
    s->log(s->log_payload, CB_LOG_INFO, "ec2[%s]: instance-role credentials refreshed", s->cloud);
    return 0;
}

/* ---- one API call with signing and retries ------------------------------- */

/* Perform `action` with form parameters `params` (without Action/Version).
 * On success *resp holds the 200 reply. */
int ec2_call(struct ec2 *s, const char *action, const struct form *params,
                    uint64_t deadline, struct cb_http_response *resp, struct cb_err *err)
{
    char origin[64];
    snprintf(origin, sizeof origin, "ec2:%s", action);
    memset(resp, 0, sizeof *resp);

    struct form body = { 0 };
    ec2_form_add(&body, "Action", action);
    ec2_form_add(&body, "Version", s->api_version);
    if (params->len > 0) {
        ec2_form_addn(&body, "&", 1);
        ec2_form_addn(&body, params->p, params->len);
    }
    if (body.oom) {
        ec2_form_free(&body);
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    }

    int rc = -1;
    bool refreshed = false;
    for (unsigned attempt = 0;; attempt++) {
        struct cb_err aerr = CB_ERR_INIT;
        enum cb_errcode cls;
        if (ec2_refresh_credentials(s, deadline, false, &aerr) != 0) {
            cls = aerr.code;
        } else {
            char date[17];
            sigv4_format_date(time(NULL), date);
            struct sigv4_header hdrs[] = {
                { "Host", s->host },
                { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
            };
            struct sigv4_request sreq = { .method = "POST", .path = s->path, .query = NULL,
                                          .headers = hdrs, .n_headers = 2, .body = body.p,
                                          .body_len = body.len };
            struct sigv4_credentials sc = { s->cred.access_key_id, s->cred.secret_access_key,
                                            s->cred.session_token };
            struct sigv4_params sp = { .region = s->region, .service = "ec2", .amz_date = date,
                                       .mode = SIGV4_MODE_HEADER, .normalize_path = true };
            struct sigv4_result sig;
            if (sigv4_sign(&sreq, &sc, &sp, &sig, err) != 0)
                break;
            char host_line[320];
            snprintf(host_line, sizeof host_line, "Host: %s", s->host);
            const char *lines[4 + SIGV4_MAX_ADDED] = {
                host_line, "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                "Accept: text/xml"
            };
            size_t nl = 3;
            for (size_t i = 0; sig.add_headers[i] != NULL; i++)
                lines[nl++] = sig.add_headers[i];
            lines[nl] = NULL;
            uint64_t now = ec2_now_ms();
            if (now >= deadline) {
                sigv4_result_free(&sig);
                cb_err_set(&aerr, CB_ERR_TIMEOUT, origin, "call deadline passed");
                cls = CB_ERR_TIMEOUT;
            } else {
                struct cb_http_request req = {
                    .method = "POST", .url = s->url, .headers = lines, .body = body.p,
                    .body_len = body.len, .connect_timeout_ms = s->connect_timeout_ms,
                    .timeout_ms = (unsigned)(deadline - now)
                };
                int hr = cb_http_perform(s->http, origin, &req, resp, &aerr);
                sigv4_result_free(&sig);
                if (hr == 0 && resp->status == 200) {
                    rc = 0;
                    break;
                }
                if (hr == 0) {
                    cls = map_http_error(resp, origin, &aerr);
                    cb_http_response_free(resp);
                } else {
                    cls = aerr.code;
                }
            }
        }
        /* Temporary credentials that expired under us: fetch new ones once. */
        if (cls == CB_ERR_AUTH && s->use_imds && !refreshed &&
            (strstr(aerr.msg, "ExpiredToken") == aerr.msg ||
             strstr(aerr.msg, "RequestExpired") == aerr.msg)) {
            refreshed = true;
            if (ec2_refresh_credentials(s, deadline, true, err) != 0)
                break;
            continue;
        }
        bool retry = cls == CB_ERR_THROTTLED || cls == CB_ERR_TRANSIENT;
        if (!retry || attempt + 1 >= EC2_MAX_ATTEMPTS) {
            cb_err_set(err, aerr.code, aerr.origin, "%s", aerr.msg);
            break;
        }
        unsigned delay = cb_backoff_delay_ms(attempt, EC2_BACKOFF_BASE_MS, EC2_BACKOFF_CAP_MS,
                                             &s->rng);
        uint64_t now = ec2_now_ms();
        if (now + delay >= deadline) {
            cb_err_set(err, aerr.code, aerr.origin, "%s (gave up after %u attempts: deadline)",
                       aerr.msg, attempt + 1);
            break;
        }
        s->log(s->log_payload, CB_LOG_INFO, "ec2[%s]: %s: %s; retry %u in %u ms", s->cloud,
               action, aerr.msg, attempt + 1, delay);
        cb_sleep_ms(delay);
    }
    ec2_form_free(&body);
    return rc;
}
