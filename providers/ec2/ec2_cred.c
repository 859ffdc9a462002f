/* ec2_cred: see ec2_cred.h. */
#include "ec2_cred.h"
#include "cb_text.h"

#include <json-c/json.h>

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void ec2_cred_wipe(struct ec2_credentials *c)
{
    if (c == NULL)
        return;
    char *v[] = { c->access_key_id, c->secret_access_key, c->session_token };
    for (size_t i = 0; i < 3; i++) {
        if (v[i] != NULL) {
            explicit_bzero(v[i], strlen(v[i]));
            free(v[i]);
        }
    }
    memset(c, 0, sizeof *c);
    c->expires = -1;
}

/* Printable ASCII without blanks: what AWS keys and tokens are made of. */
static bool is_key_text(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return false;
    return n > 0 && n <= max;
}

static bool is_key_id(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (!isalnum((unsigned char)s[n]))
            return false;
    return n >= 4 && n <= 128;
}

/* Check and take over the three values (they are wiped/freed on failure). */
static int set_creds(struct ec2_credentials *out, char *id, char *secret, char *token,
                     const char *origin, struct cb_err *err)
{
    const char *bad = NULL;
    if (id == NULL || id[0] == '\0')
        bad = "access key id missing";
    else if (!is_key_id(id))
        bad = "access key id must be 4..128 letters and digits";
    else if (secret == NULL || secret[0] == '\0')
        bad = "secret access key missing";
    else if (!is_key_text(secret, 256))
        bad = "secret access key has blanks or control characters, or is too long";
    else if (token != NULL && token[0] != '\0' && !is_key_text(token, 8192))
        bad = "session token has blanks or control characters, or is too long";
    struct ec2_credentials tmp = { id, secret, token, -1, NULL };
    if (bad != NULL) {
        ec2_cred_wipe(&tmp);
        return cb_err_set(err, CB_ERR_INVALID, origin, "%s", bad);
    }
    if (token != NULL && token[0] == '\0') {
        free(token);
        tmp.session_token = NULL;
    }
    *out = tmp;
    return 0;
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

static void wipe_free(char *p)
{
    if (p != NULL) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

int ec2_cred_parse_file(const char *text, size_t len, const char *profile, const char *origin,
                        struct ec2_credentials *out, struct cb_err *err)
{
    char *id = NULL, *secret = NULL, *token = NULL;
    char *plain[3] = { NULL, NULL, NULL };
    size_t nplain = 0;
    bool ini = false, in_profile = false, seen_profile = false;
    int line = 0;

    memset(out, 0, sizeof *out);
    out->expires = -1;
    if (profile == NULL || profile[0] == '\0')
        profile = "default";
    if (origin == NULL)
        origin = "credentials_file";
    if (text == NULL || len == 0)
        return cb_err_set(err, CB_ERR_INVALID, origin, "credentials file is empty");
    if (len > EC2_CRED_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "credentials file larger than %d bytes",
                          EC2_CRED_MAX);
    if (memchr(text, '\0', len) != NULL)
        return cb_err_set(err, CB_ERR_INVALID, origin, "credentials file contains a NUL byte");

    const char *p = text, *end = text + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        const char *s = p, *e = le;
        line++;
        p = eol ? eol + 1 : end;
        trim(&s, &e);
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            if (nplain > 0 || e[-1] != ']') {
                cb_err_set(err, CB_ERR_INVALID, origin, "line %d: malformed section header", line);
                goto fail;
            }
            ini = true;
            const char *ns = s + 1, *ne = e - 1;
            trim(&ns, &ne);
            if ((size_t)(ne - ns) > 8 && strncmp(ns, "profile ", 8) == 0) {
                ns += 8;
                trim(&ns, &ne);
            }
            in_profile = (size_t)(ne - ns) == strlen(profile) &&
                         strncmp(ns, profile, (size_t)(ne - ns)) == 0;
            seen_profile |= in_profile;
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (ini || (eq != NULL && nplain == 0)) {
            if (!ini) {
                cb_err_set(err, CB_ERR_INVALID, origin,
                           "line %d: 'key = value' before any [profile] section", line);
                goto fail;
            }
            if (eq == NULL) {
                cb_err_set(err, CB_ERR_INVALID, origin, "line %d: expected 'key = value'", line);
                goto fail;
            }
            if (!in_profile)
                continue;
            const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
            trim(&ks, &ke);
            trim(&vs, &ve);
            char **slot = NULL;
            size_t kl = (size_t)(ke - ks);
            if (kl == 17 && strncmp(ks, "aws_access_key_id", kl) == 0)
                slot = &id;
            else if (kl == 21 && strncmp(ks, "aws_secret_access_key", kl) == 0)
                slot = &secret;
            else if (kl == 17 && strncmp(ks, "aws_session_token", kl) == 0)
                slot = &token;
            if (slot == NULL)
                continue; /* region, output, ...: not ours */
            wipe_free(*slot);
            if ((*slot = dup_range(vs, (size_t)(ve - vs))) == NULL) {
                cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
                goto fail;
            }
        } else {
            if (nplain == 3) {
                cb_err_set(err, CB_ERR_INVALID, origin,
                           "line %d: plain format has at most 3 lines (key id, secret, token)",
                           line);
                goto fail;
            }
            if ((plain[nplain++] = dup_range(s, (size_t)(e - s))) == NULL) {
                cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
                goto fail;
            }
        }
    }
    if (ini) {
        if (!seen_profile) {
            cb_err_set(err, CB_ERR_INVALID, origin, "no [%s] profile in the credentials file",
                       profile);
            goto fail;
        }
        int rc = set_creds(out, id, secret, token, origin, err);
        out->source = "credentials_file";
        for (size_t i = 0; i < nplain; i++)
            wipe_free(plain[i]);
        return rc;
    }
    if (nplain < 2) {
        cb_err_set(err, CB_ERR_INVALID, origin,
                   "expected an AWS credentials INI file or 'key id' and 'secret' lines");
        goto fail;
    }
    out->source = "credentials_file";
    return set_creds(out, plain[0], plain[1], plain[2], origin, err);
fail:
    wipe_free(id);
    wipe_free(secret);
    wipe_free(token);
    for (size_t i = 0; i < nplain; i++)
        wipe_free(plain[i]);
    memset(out, 0, sizeof *out);
    out->expires = -1;
    return -1;
}

int ec2_cred_from_env(struct ec2_credentials *out, struct cb_err *err)
{
    memset(out, 0, sizeof *out);
    out->expires = -1;
    const char *id = secure_getenv("AWS_ACCESS_KEY_ID");
    const char *secret = secure_getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = secure_getenv("AWS_SESSION_TOKEN");
    bool has_id = id != NULL && id[0] != '\0', has_secret = secret != NULL && secret[0] != '\0';
    if (!has_id && !has_secret)
        return 1;
    if (!has_id || !has_secret)
        return cb_err_set(err, CB_ERR_INVALID, "environment",
                          "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set");
    char *a = strdup(id), *b = strdup(secret), *c = token ? strdup(token) : NULL;
    if (a == NULL || b == NULL || (token != NULL && c == NULL)) {
        wipe_free(a);
        wipe_free(b);
        wipe_free(c);
        return cb_err_set(err, CB_ERR_INTERNAL, "environment", "out of memory");
    }
    if (set_creds(out, a, b, c, "environment", err) != 0)
        return -1;
    out->source = "environment";
    return 0;
}

/* "2026-11-22T11:00:00Z" -> Unix seconds, -1 if bad. */
static int64_t parse_iso8601(const char *s)
{
    int y, mo, d, h, mi, se;
    char z = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &z) != 7 || z != 'Z' ||
        y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 60)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    return (int64_t)timegm(&tm);
}

static const char *json_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int ec2_cred_parse_imds(const char *body, size_t len, struct ec2_credentials *out,
                        struct cb_err *err)
{
    static const char origin[] = "ec2:imds";
    memset(out, 0, sizeof *out);
    out->expires = -1;
    if (body == NULL || len == 0)
        return cb_err_set(err, CB_ERR_INVALID, origin, "empty credentials document");
    if (len > EC2_CRED_MAX)
        return cb_err_set(err, CB_ERR_INVALID, origin, "credentials document larger than %d bytes",
                          EC2_CRED_MAX);
    json_tokener *tok = json_tokener_new_ex(16);
    if (tok == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    json_object *o = json_tokener_parse_ex(tok, body, (int)len);
    enum json_tokener_error je = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc = -1;
    if (o == NULL || je != json_tokener_success) {
        cb_err_set(err, CB_ERR_INVALID, origin, "malformed JSON: %s",
                   je != json_tokener_success ? json_tokener_error_desc(je) : "incomplete");
        goto out;
    }
    for (size_t i = used; i < len; i++)
        if (!isspace((unsigned char)body[i])) {
            cb_err_set(err, CB_ERR_INVALID, origin, "trailing data after the JSON document");
            goto out;
        }
    if (!json_object_is_type(o, json_type_object)) {
        cb_err_set(err, CB_ERR_INVALID, origin, "credentials document is not a JSON object");
        goto out;
    }
    const char *code = json_str(o, "Code");
    if (code == NULL || strcmp(code, "Success") != 0) {
        char c[64];
        cb_sanitize(c, sizeof c, code ? code : "(missing)");
        cb_err_set(err, CB_ERR_AUTH, origin, "instance role credentials unavailable: Code=%s", c);
        goto out;
    }
    const char *id = json_str(o, "AccessKeyId"), *secret = json_str(o, "SecretAccessKey");
    const char *token = json_str(o, "Token"), *exp = json_str(o, "Expiration");
    if (id == NULL || secret == NULL || token == NULL || exp == NULL) {
        cb_err_set(err, CB_ERR_INVALID, origin, "field %s missing or not a string",
                   id == NULL       ? "AccessKeyId"
                   : secret == NULL ? "SecretAccessKey"
                   : token == NULL  ? "Token"
                                    : "Expiration");
        goto out;
    }
    int64_t expires = parse_iso8601(exp);
    if (expires < 0) {
        cb_err_set(err, CB_ERR_INVALID, origin, "field Expiration is not an ISO 8601 UTC time");
        goto out;
    }
    char *a = strdup(id), *b = strdup(secret), *c = strdup(token);
    if (a == NULL || b == NULL || c == NULL) {
        wipe_free(a);
        wipe_free(b);
        wipe_free(c);
        cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        goto out;
    }
    if (set_creds(out, a, b, c, origin, err) != 0)
        goto out;
    out->expires = expires;
    out->source = "imds";
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

static int imds_request(struct cb_http *h, const char *method, const char *url,
                        const char *const *headers, unsigned connect_ms, unsigned timeout_ms,
                        struct cb_http_response *resp, struct cb_err *err)
{
    struct cb_http_request req = { .method = method, .url = url, .headers = headers,
                                   .body = strcmp(method, "PUT") == 0 ? "" : NULL,
                                   .connect_timeout_ms = connect_ms, .timeout_ms = timeout_ms,
                                   .max_response = EC2_CRED_MAX };
    if (cb_http_perform(h, "ec2:imds", &req, resp, err) != 0)
        return -1;
    if (resp->status != 200) {
        long st = resp->status;
        cb_http_response_free(resp);
        return cb_err_set(err, st == 401 || st == 403 || st == 404 ? CB_ERR_AUTH
                               : st >= 500                         ? CB_ERR_TRANSIENT
                                                                   : CB_ERR_PERMANENT,
                          "ec2:imds", "%s %s: HTTP %ld", method, url, st);
    }
    return 0;
}

int ec2_cred_fetch_imds(struct cb_http *h, const char *base_url, unsigned connect_timeout_ms,
                        unsigned timeout_ms, struct ec2_credentials *out, struct cb_err *err)
{
    struct cb_http_response resp = { 0 };
    char url[1024], hdr[256], role[128];
    int rc = -1;

    memset(out, 0, sizeof *out);
    out->expires = -1;
    size_t bl = strlen(base_url);
    while (bl > 0 && base_url[bl - 1] == '/')
        bl--;
    if (bl == 0 || bl > 512)
        return cb_err_set(err, CB_ERR_INVALID, "ec2:imds", "bad IMDS endpoint");

    const char *put_hdrs[] = { "X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL };
    snprintf(url, sizeof url, "%.*s/latest/api/token", (int)bl, base_url);
    if (imds_request(h, "PUT", url, put_hdrs, connect_timeout_ms, timeout_ms, &resp, err) != 0)
        return -1;
    if (resp.body_len == 0 || resp.body_len > 200 || !is_key_text(resp.body, 200)) {
        cb_http_response_free(&resp);
        return cb_err_set(err, CB_ERR_INVALID, "ec2:imds", "IMDSv2 session token is malformed");
    }
    snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", resp.body);
    explicit_bzero(resp.body, resp.body_len);
    cb_http_response_free(&resp);
    const char *get_hdrs[] = { hdr, NULL };

    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/", (int)bl,
             base_url);
    if (imds_request(h, "GET", url, get_hdrs, connect_timeout_ms, timeout_ms, &resp, err) != 0)
        goto out;
    size_t rl = strcspn(resp.body, "\r\n");
    if (rl == 0 || rl >= sizeof role) {
        cb_err_set(err, CB_ERR_AUTH, "ec2:imds", "no IAM role attached to this instance");
        goto out;
    }
    memcpy(role, resp.body, rl);
    role[rl] = '\0';
    for (size_t i = 0; i < rl; i++)
        if (!isalnum((unsigned char)role[i]) && strchr("+=,.@_-", role[i]) == NULL) {
            cb_err_set(err, CB_ERR_INVALID, "ec2:imds", "IAM role name has a bad character");
            goto out;
        }
    cb_http_response_free(&resp);

    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s", (int)bl,
             base_url, role);
    if (imds_request(h, "GET", url, get_hdrs, connect_timeout_ms, timeout_ms, &resp, err) != 0)
        goto out;
    rc = ec2_cred_parse_imds(resp.body, resp.body_len, out, err);
out:
    if (resp.body != NULL)
        explicit_bzero(resp.body, resp.body_len);
    cb_http_response_free(&resp);
    explicit_bzero(hdr, sizeof hdr);
    return rc;
}
