/* ec2_api: one EC2 Query API call, and the driver state it needs.
 *
 * ec2_call() builds the form body (Action, Version, parameters), signs it
 * with SigV4 (sigv4.h) at the current time, POSTs it with cb_http, and maps a
 * non-200 reply's EC2 error code to a cb_errcode (ec2_classify_code). Within
 * the caller's deadline it retries throttling and transient failures with
 * full-jitter exponential backoff (all EC2 calls this driver makes are
 * idempotent), and fetches fresh instance-role credentials once when they
 * expired under it. Internal to providers/ec2: the module exports only
 * cb_provider_ops_v1. The state is owned by ec2.c (init/fini) and used by one
 * thread at a time.
 */
#ifndef CB_EC2_API_H
#define CB_EC2_API_H

#include "cb_http.h"
#include "ec2_cred.h"
#include "provider.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EC2_DEFAULT_API_VERSION "2016-11-15"
#define EC2_MAX_BOOT 1000        /* MaxCount accepted per call */
#define EC2_MAX_USER_DATA 16384  /* EC2's limit on raw user data */
#define EC2_MAX_PAGES 100000
#define EC2_BACKOFF_BASE_MS 100
#define EC2_BACKOFF_CAP_MS 5000
#define EC2_MAX_ATTEMPTS 10
#define EC2_CRED_REFRESH_S 300   /* refresh temporary credentials this early */

struct ec2 {
    struct cb_http *http;
    cb_log_fn log;
    void *log_payload;
    char *pool;
    char *cloud;
    char *url;              /* endpoint URL */
    char *host;             /* Host header value */
    char *path;             /* request path */
    char region[64];
    char api_version[32];
    char *subnet_id, *key_name, *instance_profile, *spot_max_price, *imds_endpoint;
    char **security_groups;
    size_t n_security_groups;
    unsigned page_size, terminate_batch;
    unsigned connect_timeout_ms, call_timeout_ms;
    bool use_imds;
    struct ec2_credentials cred;
    uint64_t rng;
};

/* A form body: "k=v&k=v", values percent-encoded. */
struct form {
    char *p;
    size_t len, cap;
    bool oom;
};

void ec2_form_addn(struct form *f, const char *s, size_t n);
/* Append key=value, both percent-encoded. */
void ec2_form_add(struct form *f, const char *key, const char *value);
/* Same with a printf-formatted key ("InstanceId.%zu"). */
void ec2_form_addf(struct form *f, const char *value, const char *kfmt, ...)
    __attribute__((format(printf, 3, 4)));
void ec2_form_free(struct form *f);

/* Monotonic milliseconds (deadlines). */
uint64_t ec2_now_ms(void);

/* EC2 error code (and HTTP status, for unknown codes) -> class. */
enum cb_errcode ec2_classify_code(const char *code, long status);

/* Fetch IMDS credentials if use_imds and they are missing, near expiry, or force. */
int ec2_refresh_credentials(struct ec2 *s, uint64_t deadline, bool force, struct cb_err *err);

/* Perform `action` with form `params` (without Action/Version) by `deadline`
 * (ec2_now_ms() time). On success *resp holds the 200 reply (caller frees). */
int ec2_call(struct ec2 *s, const char *action, const struct form *params, uint64_t deadline,
             struct cb_http_response *resp, struct cb_err *err);

#endif
