/* cb_http: the small HTTP client every cloud driver uses (over libcurl easy and multi).
 *
 * Promises:
 * - One struct cb_http per driver instance (one cloud); it keeps one CURL easy
 *   handle so connections are reused. Not shared between threads.
 * - cb_http_perform_many runs a set of independent requests concurrently
 *   (libcurl multi, bounded parallelism) for APIs without batch calls.
 * - Every request has a connect timeout and a total deadline; a transport
 *   failure is CB_ERR_TIMEOUT or CB_ERR_TRANSIENT. An HTTP status is NOT an
 *   error here: the driver maps statuses and bodies to its own error classes.
 * - The response body is capped (max_response, default 32 MiB): a larger body
 *   is CB_ERR_INVALID, never an unbounded allocation. Bodies are NUL-terminated.
 * - A POST (or any non-idempotent method) always goes out on a fresh
 *   connection: libcurl would otherwise re-send it once on a reused
 *   connection that died, and a boot sent twice is two VMs.
 * - Only http:// and https:// URLs are followed; redirects are not followed
 *   (a cloud API that redirects is misconfigured, and following would leak
 *   signed headers to another host).
 * Ownership: cb_http_response owns body and headers; free with
 * cb_http_response_free (idempotent).
 */
#ifndef CB_HTTP_H
#define CB_HTTP_H

#include "cb_error.h"

#include <stddef.h>
#include <stdint.h>

struct cb_http;

struct cb_http_request {
    const char *method;              /* "GET", "POST", "DELETE", ... */
    const char *url;
    const char *const *headers;      /* "Name: value" strings, NULL-terminated list; may be NULL */
    const char *body;                /* may be NULL */
    size_t body_len;
    unsigned connect_timeout_ms;     /* 0 = 10 s */
    unsigned timeout_ms;             /* 0 = 60 s */
    size_t max_response;             /* 0 = 32 MiB */
};

struct cb_http_response {
    long status;
    char *body;                      /* NUL-terminated */
    size_t body_len;
    char *headers;                   /* raw header block of the final response, NUL-terminated */
    size_t headers_len;
    double total_time_s;
};

int cb_http_new(struct cb_http **out, struct cb_err *err);
void cb_http_free(struct cb_http *h);

/* Perform one request. `origin` names the call for error messages
 * ("ec2:RunInstances"). On success fills *resp (caller frees). */
int cb_http_perform(struct cb_http *h, const char *origin, const struct cb_http_request *req,
                    struct cb_http_response *resp, struct cb_err *err);

void cb_http_response_free(struct cb_http_response *resp);

/* Called once for every request cb_http_perform_many started, in completion
 * order: rc 0 with resp (valid during the call only; the callee may take
 * resp->body by setting it to NULL), or rc -1 with err (resp NULL). A
 * non-zero return starts no further requests; those in flight still finish
 * and are reported. */
typedef int (*cb_http_done_fn)(void *payload, size_t index, int rc,
                               struct cb_http_response *resp, const struct cb_err *err);

/* Perform n independent requests concurrently (libcurl multi), at most
 * max_parallel (>= 1) at a time, each on its own connection where
 * cb_http_perform would use a fresh one. The whole call is bounded by
 * timeout_ms (0 = 60 s): each request's timeout is cut to what is left, and
 * requests not started by then are not started (and not reported: the caller
 * tells them by the indexes it never saw). Returns 0, or -1 with err only for
 * a failure of the machinery itself (out of memory, libcurl multi errors;
 * requests in flight then are reported as CB_ERR_TRANSIENT: they may have
 * reached the server); per-request failures go to `done`. Uses its own handles: h is not needed,
 * and calls from different threads do not share anything. */
int cb_http_perform_many(const char *origin, const struct cb_http_request *reqs, size_t n,
                         unsigned max_parallel, unsigned timeout_ms, cb_http_done_fn done,
                         void *payload, struct cb_err *err);

/* Value of response header `name` (case-insensitive), copied into buf.
 * Returns buf, or NULL if absent. Leading/trailing blanks are trimmed. */
const char *cb_http_header(const struct cb_http_response *resp, const char *name, char *buf,
                           size_t len);

/* RFC 3986 percent-encoding of every byte outside ALPHA / DIGIT / "-._~"
 * (what SigV4 and query strings need). Returns a malloc'ed string or NULL. */
char *cb_http_urlencode(const char *s, size_t len);

/* Standard base64 (with padding). Returns a malloc'ed string or NULL. */
char *cb_base64_encode(const void *data, size_t len);
/* Decodes standard base64; returns 0, *out malloc'ed (NUL-terminated), or -1. */
int cb_base64_decode(const char *text, unsigned char **out, size_t *out_len);

/* Full-jitter exponential backoff: a uniform delay in [0, min(cap, base * 2^attempt)].
 * *rng is the caller's PRNG state (seed it once, e.g. from the clock): no globals. */
unsigned cb_backoff_delay_ms(unsigned attempt, unsigned base_ms, unsigned cap_ms, uint64_t *rng);

#endif
