/* ec2: the Amazon EC2 driver (EC2 Query API over HTTPS, SigV4-signed).
 *
 * Translates provider.h's calls into RunInstances / DescribeInstances /
 * TerminateInstances and their replies back; decides nothing. One driver
 * state per cloud, used by that cloud's worker thread only. Every logical
 * call has one deadline (call_timeout_ms); within it, throttling and
 * transient failures are retried with full-jitter exponential backoff (all
 * three calls are idempotent: RunInstances through ClientToken = batch_id).
 * The signed call itself, retries and error classification are in
 * ec2_api.c. Exports exactly cb_provider_ops_v1 (the module is linked with
 * -export-symbols-regex); everything else is static or internal.
 */
#include "cb_http.h"
#include "cb_text.h"
#include "ec2_api.h"
#include "ec2_cred.h"
#include "ec2_xml.h"
#include "provider.h"

#include <curl/curl.h>

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct cb_setting_spec ec2_settings[] = {
    { "region", CB_SETTING_STRING, false, "us-east-1", 0, -1,
      "AWS region; selects https://ec2.<region>.amazonaws.com unless endpoint is set" },
    { "endpoint", CB_SETTING_STRING, false, NULL, 0, -1,
      "EC2 API URL for EC2-compatible clouds or tests (http:// or https://)" },
    { "credentials_file", CB_SETTING_SECRET_FILE, false, NULL, 0, -1,
      "AWS shared-credentials INI file, or 'key id' and 'secret' lines (mode 0600)" },
    { "profile", CB_SETTING_STRING, false, "default", 0, -1,
      "profile (section) of credentials_file to use" },
    { "use_imds", CB_SETTING_BOOL, false, "false", 0, -1,
      "take instance-role credentials from the instance metadata service (IMDSv2)" },
    { "imds_endpoint", CB_SETTING_STRING, false, "http://169.254.169.254", 0, -1,
      "instance metadata service base URL" },
    { "subnet_id", CB_SETTING_STRING, false, NULL, 0, -1, "VPC subnet to boot into" },
    { "security_group_ids", CB_SETTING_STRING_LIST, false, NULL, 0, -1,
      "security group ids for the instances" },
    { "key_name", CB_SETTING_STRING, false, NULL, 0, -1, "EC2 key pair name" },
    { "instance_profile", CB_SETTING_STRING, false, NULL, 0, -1,
      "IAM instance profile name or ARN" },
    { "spot_max_price", CB_SETTING_STRING, false, NULL, 0, -1,
      "highest spot price per hour (default: the on-demand price)" },
    { "api_version", CB_SETTING_STRING, false, EC2_DEFAULT_API_VERSION, 0, -1,
      "EC2 Query API version sent with every request" },
    { "page_size", CB_SETTING_INT, false, "1000", 5, 1000,
      "MaxResults of one DescribeInstances page" },
    { "terminate_batch", CB_SETTING_INT, false, "1000", 1, 1000,
      "instance ids per TerminateInstances call" },
    { NULL, 0, false, NULL, 0, 0, NULL },
};

/* ---- init / fini ---------------------------------------------------------- */

static void ec2_fini(void *state)
{
    struct ec2 *s = state;
    if (s == NULL)
        return;
    cb_http_free(s->http);
    ec2_cred_wipe(&s->cred);
    free(s->pool);
    free(s->cloud);
    free(s->url);
    free(s->host);
    free(s->path);
    free(s->subnet_id);
    free(s->key_name);
    free(s->instance_profile);
    free(s->spot_max_price);
    free(s->imds_endpoint);
    for (size_t i = 0; i < s->n_security_groups; i++)
        free(s->security_groups[i]);
    free(s->security_groups);
    free(s);
}

static int dup_opt(char **dst, const char *src)
{
    if (src == NULL || src[0] == '\0')
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

/* Split the endpoint URL with libcurl's parser into the URL, the Host header
 * (with a non-default port, as curl sends it) and the path to sign. */
static int parse_endpoint(struct ec2 *s, const char *url, const char *origin, struct cb_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
    int rc = -1;
    if (u == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        cb_err_set(err, CB_ERR_INVALID, origin, "endpoint is not a valid URL");
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        cb_err_set(err, CB_ERR_INVALID, origin, "endpoint must be http:// or https://");
        goto out;
    }
    char *q = NULL;
    if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK) {
        curl_free(q);
        cb_err_set(err, CB_ERR_INVALID, origin, "endpoint must not have a query");
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* absent = scheme default */
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
        cb_err_set(err, CB_ERR_INVALID, origin, "endpoint has no path");
        goto out;
    }
    char hostbuf[300];
    if (port != NULL)
        snprintf(hostbuf, sizeof hostbuf, "%s:%s", host, port);
    else
        snprintf(hostbuf, sizeof hostbuf, "%s", host);
    s->url = strdup(url);
    s->host = strdup(hostbuf);
    s->path = strdup(path[0] ? path : "/");
    if (s->url == NULL || s->host == NULL || s->path == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(u);
    return rc;
}

static void setting_origin(char *buf, size_t len, const struct cb_settings *st, const char *name)
{
    const struct cb_setting *v = cb_settings_find(st, name);
    if (st != NULL && st->file != NULL && v != NULL && v->line > 0)
        snprintf(buf, len, "%s:%d: %s.%s", st->file, v->line, st->path ? st->path : "ec2", name);
    else
        snprintf(buf, len, "%s.%s", st && st->path ? st->path : "ec2", name);
}

static int ec2_init(void **out, const struct cb_provider_init *args, struct cb_err *err)
{
    *out = NULL;
    if (args == NULL || args->version < CB_PROVIDER_ABI_MIN || args->log == NULL)
        return cb_err_set(err, CB_ERR_VERSION, "ec2", "bad init arguments");
    if (args->pool_name == NULL || !cb_is_safe_name(args->pool_name))
        return cb_err_set(err, CB_ERR_INVALID, "ec2", "pool name must be [A-Za-z0-9._-]");
    const struct cb_settings *st = args->settings;
    char origin[CB_ERR_ORIGIN_MAX];
    struct ec2 *s = calloc(1, sizeof *s);
    if (s == NULL)
        return cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
    s->cred.expires = -1;
    s->log = args->log;
    s->log_payload = args->log_payload;
    s->connect_timeout_ms = args->connect_timeout_ms ? args->connect_timeout_ms : 10000;
    s->call_timeout_ms = args->call_timeout_ms ? args->call_timeout_ms : 120000;
    s->rng = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)s << 16) ^ ec2_now_ms();
    ec2_xml_init();
    if ((s->pool = strdup(args->pool_name)) == NULL ||
        (s->cloud = strdup(args->cloud_name ? args->cloud_name : "ec2")) == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
        goto fail;
    }

    const char *region = cb_settings_str(st, "region", "us-east-1");
    if (!cb_is_safe_name(region) || strlen(region) >= sizeof s->region) {
        setting_origin(origin, sizeof origin, st, "region");
        cb_err_set(err, CB_ERR_INVALID, origin, "region must be a name like us-east-1");
        goto fail;
    }
    cb_strlcpy(s->region, region, sizeof s->region);
    const char *api = cb_settings_str(st, "api_version", EC2_DEFAULT_API_VERSION);
    if (!cb_is_safe_name(api) || strlen(api) >= sizeof s->api_version) {
        setting_origin(origin, sizeof origin, st, "api_version");
        cb_err_set(err, CB_ERR_INVALID, origin, "api_version must look like 2016-11-15");
        goto fail;
    }
    cb_strlcpy(s->api_version, api, sizeof s->api_version);

    char defurl[128];
    snprintf(defurl, sizeof defurl, "https://ec2.%s.amazonaws.com/", s->region);
    setting_origin(origin, sizeof origin, st, "endpoint");
    if (parse_endpoint(s, cb_settings_str(st, "endpoint", defurl), origin, err) != 0)
        goto fail;

    s->page_size = (unsigned)cb_settings_int(st, "page_size", 1000);
    s->terminate_batch = (unsigned)cb_settings_int(st, "terminate_batch", 1000);
    if (s->page_size < 5 || s->page_size > 1000)
        s->page_size = 1000;
    if (s->terminate_batch < 1 || s->terminate_batch > 1000)
        s->terminate_batch = 1000;
    s->use_imds = cb_settings_bool(st, "use_imds", false);
    if (dup_opt(&s->subnet_id, cb_settings_str(st, "subnet_id", NULL)) != 0 ||
        dup_opt(&s->key_name, cb_settings_str(st, "key_name", NULL)) != 0 ||
        dup_opt(&s->instance_profile, cb_settings_str(st, "instance_profile", NULL)) != 0 ||
        dup_opt(&s->spot_max_price, cb_settings_str(st, "spot_max_price", NULL)) != 0 ||
        dup_opt(&s->imds_endpoint,
                cb_settings_str(st, "imds_endpoint", "http://169.254.169.254")) != 0) {
        cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
        goto fail;
    }
    const struct cb_setting *sg = cb_settings_find(st, "security_group_ids");
    if (sg != NULL && sg->type == CB_SETTING_STRING_LIST && sg->list_len > 0) {
        s->security_groups = calloc(sg->list_len, sizeof *s->security_groups);
        if (s->security_groups == NULL) {
            cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
            goto fail;
        }
        for (size_t i = 0; i < sg->list_len; i++) {
            if (sg->list[i] == NULL || !cb_is_safe_name(sg->list[i])) {
                setting_origin(origin, sizeof origin, st, "security_group_ids");
                cb_err_set(err, CB_ERR_INVALID, origin, "entry %zu is not a security group id",
                           i + 1);
                goto fail;
            }
            if ((s->security_groups[i] = strdup(sg->list[i])) == NULL) {
                cb_err_set(err, CB_ERR_INTERNAL, "ec2", "out of memory");
                goto fail;
            }
            s->n_security_groups++;
        }
    }
    if (cb_http_new(&s->http, err) != 0)
        goto fail;

    /* Credentials: file, then environment, then IMDS. */
    const struct cb_setting *cf = cb_settings_find(st, "credentials_file");
    if (cf != NULL && !cf->is_default && (cf->str != NULL || cf->secret != NULL)) {
        setting_origin(origin, sizeof origin, st, "credentials_file");
        if (cf->secret == NULL) {
            cb_err_set(err, CB_ERR_INVALID, origin, "credentials file content was not loaded");
            goto fail;
        }
        if (ec2_cred_parse_file(cf->secret, cf->secret_len, cb_settings_str(st, "profile", NULL),
                                origin, &s->cred, err) != 0)
            goto fail;
    } else {
        int e = ec2_cred_from_env(&s->cred, err);
        if (e < 0)
            goto fail;
        if (e > 0 && !s->use_imds) {
            cb_err_set(err, CB_ERR_AUTH, "ec2",
                       "no credentials: set credentials_file, the AWS_ACCESS_KEY_ID and "
                       "AWS_SECRET_ACCESS_KEY environment variables, or use_imds");
            goto fail;
        }
        if (e == 0)
            s->use_imds = false; /* the environment wins over IMDS */
        else if (ec2_refresh_credentials(s, ec2_now_ms() + s->call_timeout_ms, true, err) != 0)
            goto fail;
    }
    s->log(s->log_payload, CB_LOG_INFO, "ec2[%s]: endpoint %s, region %s, credentials from %s",
           s->cloud, s->url, s->region, s->cred.source ? s->cred.source : "?");
    *out = s;
    return 0;
fail:
    ec2_fini(s);
    return -1;
}

/* ---- boot ----------------------------------------------------------------- */

static bool is_token_text(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (!islower((unsigned char)s[n]) && !isdigit((unsigned char)s[n]) && s[n] != '-')
            return false;
    return n > 0 && n <= max;
}

static int ec2_boot(void *state, const struct cb_boot_spec *spec, struct cb_instance_list *out,
                    struct cb_err *err)
{
    struct ec2 *s = state;
    static const char origin[] = "ec2:RunInstances";
    if (spec == NULL || spec->batch_id == NULL || !is_token_text(spec->batch_id, 48))
        return cb_err_set(err, CB_ERR_INVALID, origin, "batch_id must be [a-z0-9-], 1..48 chars");
    if (spec->count < 1 || spec->count > EC2_MAX_BOOT)
        return cb_err_set(err, CB_ERR_INVALID, origin, "count must be 1..%d", EC2_MAX_BOOT);
    if (spec->flavor == NULL || !cb_is_safe_name(spec->flavor))
        return cb_err_set(err, CB_ERR_INVALID, origin, "flavor must be an instance type name");
    if (spec->image == NULL || !cb_is_safe_name(spec->image))
        return cb_err_set(err, CB_ERR_INVALID, origin, "image must be an AMI id");
    if (spec->user_data != NULL && spec->user_data_len > EC2_MAX_USER_DATA)
        return cb_err_set(err, CB_ERR_INVALID, origin, "user data is %zu bytes; EC2 allows %d",
                          spec->user_data_len, EC2_MAX_USER_DATA);

    uint64_t deadline = ec2_now_ms() + s->call_timeout_ms;
    struct form f = { 0 };
    char num[16];
    ec2_form_add(&f, "ImageId", spec->image);
    ec2_form_add(&f, "InstanceType", spec->flavor);
    ec2_form_add(&f, "MinCount", "1");
    snprintf(num, sizeof num, "%u", spec->count);
    ec2_form_add(&f, "MaxCount", num);
    ec2_form_add(&f, "ClientToken", spec->batch_id);
    ec2_form_add(&f, "TagSpecification.1.ResourceType", "instance");
    ec2_form_add(&f, "TagSpecification.1.Tag.1.Key", CB_TAG_POOL);
    ec2_form_add(&f, "TagSpecification.1.Tag.1.Value", s->pool);
    ec2_form_add(&f, "TagSpecification.1.Tag.2.Key", CB_TAG_BATCH);
    ec2_form_add(&f, "TagSpecification.1.Tag.2.Value", spec->batch_id);
    if (spec->user_data != NULL && spec->user_data_len > 0) {
        char *b64 = cb_base64_encode(spec->user_data, spec->user_data_len);
        if (b64 == NULL)
            f.oom = true;
        else
            ec2_form_add(&f, "UserData", b64);
        free(b64);
    }
    if (s->key_name)
        ec2_form_add(&f, "KeyName", s->key_name);
    if (s->subnet_id)
        ec2_form_add(&f, "SubnetId", s->subnet_id);
    for (size_t i = 0; i < s->n_security_groups; i++)
        ec2_form_addf(&f, s->security_groups[i], "SecurityGroupId.%zu", i + 1);
    if (s->instance_profile)
        ec2_form_add(&f,
                 strncmp(s->instance_profile, "arn:", 4) == 0 ? "IamInstanceProfile.Arn"
                                                               : "IamInstanceProfile.Name",
                 s->instance_profile);
    if (spec->terminate_on_shutdown)
        ec2_form_add(&f, "InstanceInitiatedShutdownBehavior", "terminate");
    if (spec->spot) {
        ec2_form_add(&f, "InstanceMarketOptions.MarketType", "spot");
        ec2_form_add(&f, "InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time");
        ec2_form_add(&f, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior",
                 "terminate");
        if (s->spot_max_price)
            ec2_form_add(&f, "InstanceMarketOptions.SpotOptions.MaxPrice", s->spot_max_price);
    }
    if (f.oom) {
        ec2_form_free(&f);
        return cb_err_set(err, CB_ERR_INTERNAL, origin, "out of memory");
    }

    struct cb_http_response resp;
    int rc = ec2_call(s, "RunInstances", &f, deadline, &resp, err);
    ec2_form_free(&f);
    if (rc != 0)
        return -1;
    size_t n0 = out->n;
    rc = ec2_xml_parse_instances(resp.body, resp.body_len, "RunInstancesResponse", out, NULL, 0,
                                 err);
    cb_http_response_free(&resp);
    if (rc != 0)
        return -1;
    if (out->n == n0)
        return cb_err_set(err, CB_ERR_INVALID, origin, "RunInstancesResponse has no instances");
    /* The reply may lack tags (older APIs, EC2-compatible clouds): the batch
     * is ours, and the node id follows from the launch index. */
    for (size_t i = n0; i < out->n; i++) {
        struct cb_instance *in = &out->items[i];
        if (in->batch_id[0] == '\0')
            cb_strlcpy(in->batch_id, spec->batch_id, sizeof in->batch_id);
        if (in->node_id[0] == '\0')
            snprintf(in->node_id, sizeof in->node_id, "%s-%zu", spec->batch_id, i - n0);
    }
    s->log(s->log_payload, CB_LOG_INFO, "ec2[%s]: batch %s: %zu of %u instances accepted",
           s->cloud, spec->batch_id, out->n - n0, spec->count);
    return 0;
}

/* ---- list ------------------------------------------------------------------ */

/* One page being parsed on a helper thread while the next page is fetched:
 * with 1000 instances a page is ~2 MB of XML, and parsing it takes about as
 * long as a round trip, so overlapping the two halves a long listing's time.
 * The thread only parses memory it owns; it is always joined before
 * ec2_list returns. */
struct page_parse {
    pthread_t thread;
    bool running;
    unsigned page;
    struct cb_http_response resp;
    struct cb_instance_list items;
    char token[EC2_NEXT_TOKEN_MAX + 1];
    struct cb_err err;
    int rc;
    uint64_t ms;
};

static void *page_parse_run(void *arg)
{
    struct page_parse *p = arg;
    uint64_t t0 = ec2_now_ms();
    p->rc = ec2_xml_parse_instances(p->resp.body, p->resp.body_len, "DescribeInstancesResponse",
                                    &p->items, p->token, sizeof p->token, &p->err);
    p->ms = ec2_now_ms() - t0;
    return NULL;
}

/* Wait for p (if started), move its instances to out. Returns its result. */
static int page_parse_finish(struct ec2 *s, struct page_parse *p, struct cb_instance_list *out,
                             const char *scanned_token, struct cb_err *err)
{
    int rc = 0;
    if (p->running) {
        pthread_join(p->thread, NULL);
        p->running = false;
    }
    if (p->resp.body == NULL)
        return 0;
    if (p->rc != 0) {
        cb_err_set(err, p->err.code, p->err.origin, "%s", p->err.msg);
        rc = -1;
    } else if (scanned_token != NULL && strcmp(scanned_token, p->token) != 0) {
        rc = cb_err_set(err, CB_ERR_INVALID, "ec2:DescribeInstances",
                        "page %u: <nextToken> differs between the two parses", p->page);
    }
    for (size_t i = 0; rc == 0 && i < p->items.n; i++) {
        struct cb_instance *in = cb_instance_list_add(out);
        if (in == NULL)
            rc = cb_err_set(err, CB_ERR_INTERNAL, "ec2:DescribeInstances", "out of memory");
        else
            *in = p->items.items[i];
    }
    s->log(s->log_payload, CB_LOG_DEBUG, "ec2[%s]: DescribeInstances page %u: %zu instances, "
           "%zu bytes, parsed in %llu ms", s->cloud, p->page, p->items.n, p->resp.body_len,
           (unsigned long long)p->ms);
    cb_http_response_free(&p->resp);
    cb_instance_list_free(&p->items);
    return rc;
}

static void page_parse_start(struct page_parse *p, struct cb_http_response *resp, unsigned page)
{
    memset(p, 0, sizeof *p);
    p->resp = *resp;
    memset(resp, 0, sizeof *resp);
    p->page = page;
    cb_err_clear(&p->err);
    if (pthread_create(&p->thread, NULL, page_parse_run, p) == 0)
        p->running = true;
    else
        page_parse_run(p); /* no thread: parse here */
}

static int ec2_list(void *state, struct cb_instance_list *out, struct cb_err *err)
{
    struct ec2 *s = state;
    uint64_t deadline = ec2_now_ms() + s->call_timeout_ms;
    char token[EC2_NEXT_TOKEN_MAX + 1] = "", next[EC2_NEXT_TOKEN_MAX + 1] = "";
    char num[16], fname[64];
    size_t n0 = out->n;
    struct page_parse pp;
    int rc = -1;

    memset(&pp, 0, sizeof pp);
    snprintf(num, sizeof num, "%u", s->page_size);
    snprintf(fname, sizeof fname, "tag:%s", CB_TAG_POOL);
    for (unsigned page = 1;; page++) {
        if (page > EC2_MAX_PAGES) {
            cb_err_set(err, CB_ERR_INVALID, "ec2:DescribeInstances",
                       "more than %d pages: refusing to continue", EC2_MAX_PAGES);
            goto out;
        }
        struct form f = { 0 };
        ec2_form_add(&f, "Filter.1.Name", fname);
        ec2_form_add(&f, "Filter.1.Value.1", s->pool);
        ec2_form_add(&f, "MaxResults", num);
        if (token[0] != '\0')
            ec2_form_add(&f, "NextToken", token);
        if (f.oom) {
            ec2_form_free(&f);
            cb_err_set(err, CB_ERR_INTERNAL, "ec2:DescribeInstances", "out of memory");
            goto out;
        }
        struct cb_http_response resp;
        int crc = ec2_call(s, "DescribeInstances", &f, deadline, &resp, err);
        ec2_form_free(&f);
        if (crc != 0)
            goto out;
        /* the token first (cheap), so the next request can go out while this
         * page is parsed */
        struct cb_err terr = CB_ERR_INIT;
        if (ec2_xml_next_token(resp.body, resp.body_len, next, sizeof next, &terr) != 0) {
            /* let the full parser name what is wrong */
            struct cb_instance_list tmp = { 0 };
            if (ec2_xml_parse_instances(resp.body, resp.body_len, "DescribeInstancesResponse",
                                        &tmp, NULL, 0, err) == 0)
                cb_err_set(err, terr.code, terr.origin, "%s", terr.msg);
            cb_instance_list_free(&tmp);
            cb_http_response_free(&resp);
            goto out;
        }
        /* the previous page must have parsed, with the token we followed */
        if (page_parse_finish(s, &pp, out, token, err) != 0) {
            cb_http_response_free(&resp);
            goto out;
        }
        page_parse_start(&pp, &resp, page);
        if (next[0] == '\0')
            break;
        if (strcmp(next, token) == 0) {
            cb_err_set(err, CB_ERR_INVALID, "ec2:DescribeInstances",
                       "page %u returned the same nextToken again", page);
            goto out;
        }
        cb_strlcpy(token, next, sizeof token);
    }
    rc = page_parse_finish(s, &pp, out, next, err);
out:
    if (rc != 0) {
        page_parse_finish(s, &pp, out, NULL, err); /* join; error already recorded */
        out->n = n0;
    }
    return rc;
}

/* ---- terminate ------------------------------------------------------------ */

/* Which of ids[0..n) the cloud still knows (in any state), into known[]:
 * DescribeInstances filtered by instance-id, which, unlike InstanceId.N,
 * ignores ids it does not know instead of failing. */
static int known_ids(struct ec2 *s, const char *const *ids, size_t n, bool *known,
                     uint64_t deadline, struct cb_err *err)
{
    char token[EC2_NEXT_TOKEN_MAX + 1] = "";
    for (size_t i = 0; i < n; i++)
        known[i] = false;
    for (unsigned page = 0; page < 1000; page++) {
        struct form f = { 0 };
        ec2_form_add(&f, "Filter.1.Name", "instance-id");
        for (size_t i = 0; i < n; i++)
            ec2_form_addf(&f, ids[i], "Filter.1.Value.%zu", i + 1);
        ec2_form_add(&f, "MaxResults", "1000");
        if (token[0] != '\0')
            ec2_form_add(&f, "NextToken", token);
        if (f.oom) {
            ec2_form_free(&f);
            return cb_err_set(err, CB_ERR_INTERNAL, "ec2:DescribeInstances", "out of memory");
        }
        struct cb_http_response resp;
        int rc = ec2_call(s, "DescribeInstances", &f, deadline, &resp, err);
        ec2_form_free(&f);
        if (rc != 0)
            return -1;
        struct cb_instance_list got = { 0 };
        rc = ec2_xml_parse_instances(resp.body, resp.body_len, "DescribeInstancesResponse", &got,
                                     token, sizeof token, err);
        cb_http_response_free(&resp);
        for (size_t j = 0; rc == 0 && j < got.n; j++)
            for (size_t i = 0; i < n; i++)
                if (!known[i] && strcmp(got.items[j].id, ids[i]) == 0)
                    known[i] = true;
        cb_instance_list_free(&got);
        if (rc != 0)
            return -1;
        if (token[0] == '\0')
            return 0;
    }
    return cb_err_set(err, CB_ERR_INVALID, "ec2:DescribeInstances", "too many pages");
}

static int terminate_range(struct ec2 *s, const char *const *ids, size_t n, bool *failed,
                           bool probe, uint64_t deadline, struct cb_err *err);

/* EC2 rejected a batch because some ids are unknown: ask which ids exist and
 * terminate only those (one extra call instead of one per unknown id). */
static int terminate_known(struct ec2 *s, const char *const *ids, size_t n, bool *failed,
                           uint64_t deadline, struct cb_err *err)
{
    bool *known = calloc(n, sizeof *known), *subfail = calloc(n, sizeof *subfail);
    const char **sub = calloc(n, sizeof *sub);
    size_t *map = calloc(n, sizeof *map);
    int rc = -1;
    if (known == NULL || subfail == NULL || sub == NULL || map == NULL) {
        cb_err_set(err, CB_ERR_INTERNAL, "ec2:TerminateInstances", "out of memory");
        for (size_t i = 0; failed != NULL && i < n; i++)
            failed[i] = true;
    } else if (known_ids(s, ids, n, known, deadline, err) != 0) {
        for (size_t i = 0; failed != NULL && i < n; i++)
            failed[i] = true; /* cannot tell which may still run */
    } else {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (known[i]) {
                sub[k] = ids[i];
                map[k++] = i;
            }
        /* unknown ids are already gone: success for them */
        rc = k == 0 ? 0 : terminate_range(s, sub, k, subfail, false, deadline, err);
        for (size_t j = 0; failed != NULL && j < k; j++)
            failed[map[j]] = subfail[j];
    }
    free(known);
    free(subfail);
    free(sub);
    free(map);
    return rc;
}

/* Terminate ids[0..n). EC2 rejects the whole call if one id is unknown
 * (InvalidInstanceID.NotFound): then the known ids are looked up (probe),
 * or, if they vanish again meanwhile, the batch is split in halves. */
static int terminate_range(struct ec2 *s, const char *const *ids, size_t n, bool *failed,
                           bool probe, uint64_t deadline, struct cb_err *err)
{
    struct form f = { 0 };
    for (size_t i = 0; i < n; i++)
        ec2_form_addf(&f, ids[i], "InstanceId.%zu", i + 1);
    if (f.oom) {
        ec2_form_free(&f);
        return cb_err_set(err, CB_ERR_INTERNAL, "ec2:TerminateInstances", "out of memory");
    }
    struct cb_http_response resp;
    struct cb_err cerr = CB_ERR_INIT;
    int rc = ec2_call(s, "TerminateInstances", &f, deadline, &resp, &cerr);
    ec2_form_free(&f);
    if (rc != 0) {
        if (cerr.code == CB_ERR_NOT_FOUND) {
            if (n == 1)
                return 0; /* already gone */
            if (probe)
                return terminate_known(s, ids, n, failed, deadline, err);
            int a = terminate_range(s, ids, n / 2, failed, false, deadline, err);
            int b = terminate_range(s, ids + n / 2, n - n / 2, failed ? failed + n / 2 : NULL,
                                    false, deadline, err);
            return a == 0 && b == 0 ? 0 : -1;
        }
        cb_err_set(err, cerr.code, cerr.origin, "%s", cerr.msg);
        for (size_t i = 0; failed != NULL && i < n; i++)
            failed[i] = true;
        return -1;
    }
    struct cb_instance_list got = { 0 };
    rc = ec2_xml_parse_terminate(resp.body, resp.body_len, &got, err);
    cb_http_response_free(&resp);
    if (rc != 0) {
        for (size_t i = 0; failed != NULL && i < n; i++)
            failed[i] = true;
        cb_instance_list_free(&got);
        return -1;
    }
    /* Every id asked for must be in the reply (any state: terminating is enough). */
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        for (size_t j = 0; j < got.n && !seen; j++)
            seen = strcmp(got.items[j].id, ids[i]) == 0;
        if (!seen) {
            if (failed != NULL)
                failed[i] = true;
            char id[CB_ID_MAX];
            cb_err_set(err, CB_ERR_INVALID, "ec2:TerminateInstances",
                       "reply does not mention instance %s", cb_sanitize(id, sizeof id, ids[i]));
            rc = -1;
        }
    }
    cb_instance_list_free(&got);
    return rc;
}

static int ec2_terminate(void *state, const char *const *ids, size_t n, bool *failed,
                         struct cb_err *err)
{
    struct ec2 *s = state;
    uint64_t deadline = ec2_now_ms() + s->call_timeout_ms;
    int rc = 0;

    for (size_t i = 0; failed != NULL && i < n; i++)
        failed[i] = false;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == NULL || strlen(ids[i]) >= CB_ID_MAX || !cb_is_safe_name(ids[i])) {
            for (size_t j = 0; failed != NULL && j < n; j++)
                failed[j] = true;
            return cb_err_set(err, CB_ERR_INVALID, "ec2:TerminateInstances",
                              "id %zu is not an instance id", i + 1);
        }
    for (size_t off = 0; off < n; off += s->terminate_batch) {
        size_t k = n - off < s->terminate_batch ? n - off : s->terminate_batch;
        if (terminate_range(s, ids + off, k, failed ? failed + off : NULL, true, deadline, err) !=
            0)
            rc = -1;
    }
    return rc;
}

const struct cb_provider_ops cb_provider_ops_v1 = {
    .abi_version = CB_PROVIDER_ABI_VERSION,
    .name = "ec2",
    .description = "Amazon EC2 and EC2-compatible clouds (Query API, SigV4)",
    .caps = CB_PROVIDER_CAP_BATCH_BOOT | CB_PROVIDER_CAP_CLIENT_TOKEN | CB_PROVIDER_CAP_SPOT |
            CB_PROVIDER_CAP_SHUTDOWN_TERMINATES,
    .settings = ec2_settings,
    .init = ec2_init,
    .boot = ec2_boot,
    .list = ec2_list,
    .terminate = ec2_terminate,
    .host_keys = NULL,
    .fini = ec2_fini,
};
