/* sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256) request signing.
 *
 * Promises:
 * - Implements the signing process of the AWS General Reference: canonical
 *   request, string to sign, derived signing key, signature, and either the
 *   Authorization header (header mode) or a presigned query string (query
 *   mode). SHA-256 and HMAC come from OpenSSL's libcrypto; nothing else is
 *   hand-written crypto.
 * - Pure: no clock, no I/O, no globals. The caller passes the time as the
 *   X-Amz-Date text ("YYYYMMDDTHHMMSSZ"), so the official test suite and the
 *   cross-check against the AWS SDK run with fixed dates.
 * - Input is bounded (SIGV4_MAX_* below) and validated: a header value with
 *   CR/LF, a bad date, an empty key or a region/service with '/' fails with
 *   CB_ERR_INVALID naming the field; nothing is signed half-way.
 * - The secret key is copied only into a stack buffer that is wiped
 *   (OPENSSL_cleanse) before return; it never reaches an error message.
 *
 * Ownership: sigv4_sign() fills a struct sigv4_result whose strings the caller
 * releases with sigv4_result_free() (idempotent). The request and credential
 * strings are only read during the call.
 */
#ifndef CB_SIGV4_H
#define CB_SIGV4_H

#include "cb_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_PATH 8192
#define SIGV4_MAX_QUERY (64 * 1024)
#define SIGV4_MAX_HEADER_BYTES (64 * 1024)
#define SIGV4_MAX_ADDED 5

struct sigv4_header {
    const char *name;
    const char *value;
};

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;        /* NULL or "" = long-term credentials */
};

enum sigv4_mode {
    SIGV4_MODE_HEADER = 0,            /* Authorization header */
    SIGV4_MODE_QUERY,                 /* presigned URL (X-Amz-Signature in the query) */
};

struct sigv4_params {
    const char *region;               /* "us-east-1" */
    const char *service;              /* "ec2" */
    const char *amz_date;             /* "20150830T123600Z" (UTC) */
    enum sigv4_mode mode;
    bool normalize_path;              /* remove dot segments and empty segments (all but S3) */
    bool add_content_sha256;          /* header mode: sign an x-amz-content-sha256 header */
    bool omit_session_token;          /* add the token after signing, unsigned */
    unsigned expires;                 /* query mode: X-Amz-Expires seconds (1..604800) */
};

struct sigv4_request {
    const char *method;               /* "GET", "POST", ... */
    const char *path;                 /* as sent on the wire, "/" if empty */
    const char *query;                /* as sent, without '?'; NULL or "" = none */
    const struct sigv4_header *headers; /* must include Host; duplicates allowed */
    size_t n_headers;
    const void *body;                 /* NULL = empty */
    size_t body_len;
};

struct sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char signature[65];               /* lower-case hex */
    char *authorization;              /* header mode: the Authorization value; else NULL */
    char *signed_query;               /* query mode: query to send (original + X-Amz-*); else NULL */
    /* Header lines "Name:value" the caller must add to the request, in order
     * (X-Amz-Date, X-Amz-Security-Token, x-amz-content-sha256, Authorization,
     * each only when it applies). NULL-terminated. */
    char *add_headers[SIGV4_MAX_ADDED + 1];
};

/* Sign `req`. On success returns 0 and fills *out (caller frees). On failure
 * returns -1, *out is empty, err says which input was refused. */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
               const struct sigv4_params *params, struct sigv4_result *out,
               struct cb_err *err);

void sigv4_result_free(struct sigv4_result *r);

/* "YYYYMMDDTHHMMSSZ" for t (UTC) into out[17]. Returns out. */
char *sigv4_format_date(time_t t, char out[17]);

/* Lower-case hex SHA-256 of data into out[65]. Returns out. */
char *sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
