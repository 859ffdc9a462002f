/* ec2_cred: where the EC2 driver's AWS credentials come from.
 *
 * Sources, in the driver's order of preference:
 *   1. the credentials_file setting (its content, read by the config loader's
 *      permission-checked secret reader): either the AWS shared-credentials INI
 *      format ("[profile]" sections with aws_access_key_id,
 *      aws_secret_access_key, optional aws_session_token) or two/three plain
 *      lines "key id\nsecret\n[session token]";
 *   2. the standard environment variables AWS_ACCESS_KEY_ID,
 *      AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN;
 *   3. the instance metadata service, IMDSv2 (PUT a session token, then GET
 *      the role's temporary credentials), when use_imds is set. These expire;
 *      the driver refreshes them ahead of Expiration.
 *
 * Promises: parsers are bounded (EC2_CRED_MAX bytes), errors name the line or
 * field and never contain a byte of a secret, and every secret string is
 * wiped (explicit_bzero) by ec2_cred_wipe(). The caller owns *out.
 */
#ifndef CB_EC2_CRED_H
#define CB_EC2_CRED_H

#include "cb_error.h"
#include "cb_http.h"

#include <stdint.h>

#define EC2_CRED_MAX (64 * 1024)

struct ec2_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;   /* NULL for long-term keys */
    int64_t expires;       /* Unix seconds; -1 = does not expire */
    const char *source;    /* "credentials_file", "environment", "imds" (static text) */
};

/* Parse the content of a credentials file; `profile` picks the INI section
 * (NULL = "default"); `origin` names the file in errors. */
int ec2_cred_parse_file(const char *text, size_t len, const char *profile, const char *origin,
                        struct ec2_credentials *out, struct cb_err *err);

/* From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
 * Returns 0 when both keys are set, 1 when they are absent (not an error),
 * -1 when only one is set or a value is unusable. */
int ec2_cred_from_env(struct ec2_credentials *out, struct cb_err *err);

/* Parse the JSON document IMDS returns for a role ("Code", "AccessKeyId",
 * "SecretAccessKey", "Token", "Expiration"). */
int ec2_cred_parse_imds(const char *body, size_t len, struct ec2_credentials *out,
                        struct cb_err *err);

/* IMDSv2 exchange against base_url ("http://169.254.169.254"): token, role
 * name, role credentials. Every request is bounded by timeout_ms. */
int ec2_cred_fetch_imds(struct cb_http *h, const char *base_url, unsigned connect_timeout_ms,
                        unsigned timeout_ms, struct ec2_credentials *out, struct cb_err *err);

void ec2_cred_wipe(struct ec2_credentials *c);

#endif
